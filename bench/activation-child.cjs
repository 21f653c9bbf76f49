// One activation, in a fresh Node process: `node bench/activation-child.cjs <extension module> [--resolve-chat]`.
// With --resolve-chat it then resolves the chat view and delivers the view's first
// message (`ui/ready`), timing each: the first use that activation defers.
// Plain CommonJS on purpose: the parent (bench/activation.bench.ts) runs under tsx,
// whose require hooks must not sit between this process and the bundle it times.
//
// `require('vscode')` is answered with a recording fake of the API surface the
// extension touches at activation and when the chat view resolves; anything
// it lacks fails loudly (a TypeError), so the bench cannot time a half-run
// activation. Prints one JSON line on stdout:
//   { loadMs, activateMs, resolveMs?, firstMessageMs?, commands, views, disposables }
'use strict';
const Module = require('node:module');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const [entry, ...flags] = process.argv.slice(2);
if (!entry) throw new Error('usage: activation-child.cjs <extension module> [--resolve-chat]');

const recorded = { commands: [], views: [], outputChannels: [], treeViews: [], serializers: [], contentProviders: [], listeners: 0 };
const disposable = () => ({ dispose() {} });
const event = () => () => {
  recorded.listeners++;
  return disposable();
};

class Uri {
  constructor(scheme, fsPath) {
    this.scheme = scheme;
    this.fsPath = fsPath;
    this.path = fsPath;
  }
  static file(p) {
    return new Uri('file', p);
  }
  static joinPath(base, ...parts) {
    return new Uri(base.scheme, path.posix.join(base.path, ...parts));
  }
  static parse(value) {
    const m = /^([a-z][\w+.-]*):(.*)$/i.exec(value);
    return m ? new Uri(m[1], m[2].replace(/^\/\//, '')) : new Uri('file', value);
  }
  static from(parts) {
    return new Uri(parts.scheme, parts.path || '');
  }
  with() {
    return this;
  }
  toString() {
    return `${this.scheme}://${this.path}`;
  }
}

class EventEmitter {
  constructor() {
    this.listeners = new Set();
    this.event = (l) => {
      this.listeners.add(l);
      return { dispose: () => this.listeners.delete(l) };
    };
  }
  fire(v) {
    for (const l of this.listeners) l(v);
  }
  dispose() {
    this.listeners.clear();
  }
}

function logChannel(name) {
  const lines = [];
  recorded.outputChannels.push(name);
  const log = (m) => lines.push(m);
  return { name, logLevel: 2, onDidChangeLogLevel: event(), trace: log, debug: log, info: log, warn: log, error: log, append: log, appendLine: log, replace() {}, clear() {}, show() {}, hide() {}, dispose() {} };
}

const workspaceUri = Uri.file(path.join(require('node:os').tmpdir(), 'crewbox-activation-ws'));
const notAtActivation = (name) => () => Promise.reject(new Error(`fake vscode: ${name} is not expected during the bench`));

const vscode = {
  version: '1.90.0',
  Uri,
  EventEmitter,
  Disposable: class {
    constructor(fn) {
      this.dispose = fn;
    }
    static from(...ds) {
      return { dispose: () => ds.forEach((d) => d.dispose()) };
    }
  },
  ThemeIcon: class {
    constructor(id, color) {
      this.id = id;
      this.color = color;
    }
  },
  ThemeColor: class {
    constructor(id) {
      this.id = id;
    }
  },
  TreeItem: class {
    constructor(label, collapsibleState) {
      this.label = label;
      this.collapsibleState = collapsibleState;
    }
  },
  MarkdownString: class {
    constructor(value = '') {
      this.value = value;
    }
    appendMarkdown(v) {
      this.value += v;
      return this;
    }
    appendText(v) {
      this.value += v;
      return this;
    }
  },
  RelativePattern: class {
    constructor(base, pattern) {
      this.base = base;
      this.pattern = pattern;
    }
  },
  Range: class {
    constructor(a, b, c, d) {
      this.start = { line: a, character: b };
      this.end = { line: c, character: d };
    }
  },
  WorkspaceEdit: class {
    replace() {}
    insert() {}
    delete() {}
    createFile() {}
    deleteFile() {}
  },
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
  ViewColumn: { Active: -1, Beside: -2, One: 1 },
  ExtensionMode: { Production: 1, Development: 2, Test: 3 },
  window: {
    createOutputChannel: (name) => logChannel(name),
    registerWebviewViewProvider(viewType, provider) {
      recorded.views.push({ viewType, provider });
      return disposable();
    },
    registerWebviewPanelSerializer(viewType) {
      recorded.serializers.push(viewType);
      return disposable();
    },
    createTreeView(id) {
      recorded.treeViews.push(id);
      return { visible: false, selection: [], onDidChangeVisibility: event(), onDidChangeSelection: event(), onDidExpandElement: event(), onDidCollapseElement: event(), reveal: async () => {}, dispose() {}, badge: undefined, message: undefined, title: undefined, description: undefined };
    },
    registerTreeDataProvider(id) {
      recorded.treeViews.push(id);
      return disposable();
    },
    createWebviewPanel: () => {
      throw new Error('fake vscode: createWebviewPanel is not expected during the bench');
    },
    showSaveDialog: notAtActivation('showSaveDialog'),
    visibleTextEditors: [],
    onDidChangeActiveTextEditor: event(),
    showInformationMessage: notAtActivation('showInformationMessage'),
    showWarningMessage: notAtActivation('showWarningMessage'),
    showErrorMessage: notAtActivation('showErrorMessage'),
    showQuickPick: notAtActivation('showQuickPick'),
    showInputBox: notAtActivation('showInputBox'),
    withProgress: notAtActivation('withProgress'),
    activeTextEditor: undefined,
  },
  commands: {
    registerCommand(id) {
      recorded.commands.push(id);
      return disposable();
    },
    executeCommand: notAtActivation('executeCommand'),
  },
  workspace: {
    workspaceFolders: [{ uri: workspaceUri, name: 'ws', index: 0 }],
    isTrusted: true,
    getConfiguration: () => ({ get: () => undefined, has: () => false, inspect: () => undefined, update: notAtActivation('update') }),
    onDidGrantWorkspaceTrust: event(),
    onDidChangeConfiguration: event(),
    onDidChangeTextDocument: event(),
    onDidCloseTextDocument: event(),
    onDidSaveTextDocument: event(),
    textDocuments: [],
    asRelativePath: (p) => String(p),
    registerTextDocumentContentProvider(scheme) {
      recorded.contentProviders.push(scheme);
      return disposable();
    },
    createFileSystemWatcher: () => ({ onDidCreate: event(), onDidChange: event(), onDidDelete: event(), dispose() {} }),
    openTextDocument: notAtActivation('openTextDocument'),
    applyEdit: notAtActivation('applyEdit'),
    fs: { stat: notAtActivation('fs.stat'), readFile: notAtActivation('fs.readFile'), writeFile: notAtActivation('fs.writeFile'), delete: notAtActivation('fs.delete') },
  },
  languages: { getDiagnostics: () => [] },
  env: { appName: 'Visual Studio Code', language: 'en', uiKind: 1 },
};

const originalLoad = Module._load;
Module._load = function load(request, parent, isMain) {
  return request === 'vscode' ? vscode : originalLoad.call(this, request, parent, isMain);
};

const extensionPath = path.resolve(__dirname, '..');
const store = () => {
  const m = new Map();
  return { get: (k, d) => (m.has(k) ? m.get(k) : d), update: async (k, v) => void m.set(k, v), keys: () => [...m.keys()], setKeysForSync() {} };
};
const context = {
  subscriptions: [],
  extensionPath,
  extensionUri: Uri.file(extensionPath),
  extensionMode: 1,
  globalState: store(),
  workspaceState: store(),
  secrets: { get: async () => undefined, store: async () => {}, delete: async () => {}, onDidChange: event() },
  storageUri: undefined,
  globalStorageUri: Uri.file(path.join(extensionPath, '.global-storage')),
  logUri: Uri.file(path.join(extensionPath, '.log')),
  asAbsolutePath: (p) => path.join(extensionPath, p),
};

/** A sidebar webview view as VS Code hands it to resolveWebviewView; `deliver` plays the webview posting a message. */
function fakeWebviewView(viewType) {
  const listeners = [];
  const posted = [];
  let onPost = () => {};
  return {
    deliver(message) {
      for (const l of listeners) l(message);
    },
    nextPost: () => new Promise((resolve) => (onPost = resolve)),
    posted,
    viewType,
    visible: true,
    webview: {
      options: {},
      html: '',
      cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
      asWebviewUri: (u) => u,
      postMessage: async (m) => {
        posted.push(m);
        onPost(m);
        return true;
      },
      onDidReceiveMessage: (l) => {
        listeners.push(l);
        return disposable();
      },
    },
    onDidChangeVisibility: event(),
    onDidDispose: event(),
    show() {},
  };
}

async function main() {
  const t0 = performance.now();
  const ext = require(path.resolve(entry));
  const t1 = performance.now();
  await ext.activate(context);
  const t2 = performance.now();
  const result = {
    loadMs: t1 - t0,
    activateMs: t2 - t1,
    commands: recorded.commands.length,
    views: [...recorded.views.map((v) => v.viewType), ...recorded.treeViews, ...recorded.serializers.map((s) => `${s} (panel)`)],
    disposables: context.subscriptions.length,
  };
  if (flags.includes('--resolve-chat')) {
    const chat = recorded.views.find((v) => v.viewType === 'crewbox.chat');
    if (!chat) throw new Error('the extension registered no crewbox.chat view');
    const view = fakeWebviewView('crewbox.chat');
    const t3 = performance.now();
    await chat.provider.resolveWebviewView(view, {}, { isCancellationRequested: false, onCancellationRequested: event() });
    const t4 = performance.now();
    result.resolveMs = t4 - t3;
    const reply = view.nextPost();
    view.deliver({ kind: 'request', id: 'chat-1', method: 'ui/ready', params: { view: 'chat', protocol: 1 } });
    const answered = await reply;
    result.firstMessageMs = performance.now() - t4;
    if (!answered || !answered.result || answered.result.ok !== true) throw new Error(`ui/ready was not answered: ${JSON.stringify(answered)}`);
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // The extension may hold timers or listeners; the measurement is done.
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write(`${e && e.stack ? e.stack : String(e)}\n`);
  process.exit(1);
});
