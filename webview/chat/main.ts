/**
 * Entry of the chat webview bundle (dist/webview/chat.js): connects to the
 * host, starts the ready handshake and mounts the view into #app. The host
 * answers the handshake and then sends the chat's state.
 *
 * Nothing imported here may load zod (a value import of a schema module):
 * the protocol's validators load after the first paint (shared/vscode-api.ts),
 * and shared/validators.ts puts zod in jitless mode before building them.
 */
import { connect } from '../shared/vscode-api.ts';
import { ChatStore } from './model/chat-store.ts';
import { chatNotificationHandlers } from './model/host-notifications.ts';
import type { Drafts } from './view/composer.ts';
import { ChatApp } from './view/chat-app.ts';

const root = document.getElementById('app');
if (!root) throw new Error('The chat page has no #app element.');

let app: ChatApp | undefined;
const store = new ChatStore(() => app?.scheduleRender());
const { api, channel } = connect('chat', chatNotificationHandlers(store));
// The handshake goes first, so the host starts reading the run's log while the view lays itself out.
// Nothing can arrive before the view exists: host messages are tasks, and this script runs to the end first.
void channel.ready().then((reply) => {
  if (reply.ok) store.connectedAs(reply.value.trusted, reply.value.untrustedReason);
  else store.showError(reply.error);
});
app = new ChatApp(root, store, channel, {
  load: () => api.getState() as { drafts?: Drafts } | undefined,
  save: (state) => api.setState(state),
});
