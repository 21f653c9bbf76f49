/** What each host notification does to the chat's store. */
import type { NotificationHandlers } from '../../../src/protocol/webview-channel.ts';
import type { ChatStore } from './chat-store.ts';

export function chatNotificationHandlers(store: ChatStore): NotificationHandlers {
  return {
    'transcript/reset': ({ runId, events, earlier }) => store.resetTranscript(runId, events, earlier),
    'transcript/append': ({ runId, events }) => store.appendEvents(runId, events),
    'status/update': ({ driving, sandbox }) => store.setHostStatus(driving, sandbox),
    'runs/resumable': ({ runs }) => store.setResumable(runs),
    'notice/error': ({ message, actions }) => store.showError({ message, actions }),
    'notice/clear': () => store.clearError(),
    'workspace/trust': ({ trusted, reason }) => store.setTrust(trusted, reason),
  };
}
