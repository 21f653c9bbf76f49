/**
 * Entry of the history webview bundle (dist/webview/history.js): connects to
 * the host, mounts the run list / trace viewer into #app, and starts the
 * ready handshake; once it is answered, the view asks for the runs.
 */
import '../shared/zod-csp.ts';
import { connect } from '../shared/vscode-api.ts';
import { HistoryApp } from './view/history-app.ts';

const root = document.getElementById('app');
if (!root) throw new Error('The history page has no #app element.');

let app: HistoryApp | undefined;
const { channel } = connect('history', {
  'history/update': ({ runs }) => app?.updateRuns(runs),
  'trace/show': ({ runId }) => app?.openTrace(runId),
  'notice/error': ({ message, actions }) => app?.showError({ message, actions }),
  'notice/clear': () => app?.clearError(),
});
app = new HistoryApp(root, channel);

void channel.ready().then((reply) => {
  if (reply.ok) app?.start();
  else app?.showError(reply.error);
});
