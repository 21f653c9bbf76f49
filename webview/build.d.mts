// Types for webview/build.mjs, so TypeScript callers (the browser tests and the bench) import it checked.
import type { BuildContext, BuildOptions, BuildResult } from 'esbuild';

export declare const VIEWS: readonly ['chat', 'history'];

export interface WebviewBuildSettings {
  /** Defaults to dist/webview at the repository root. */
  outdir?: string;
  production?: boolean;
}

export declare function webviewBuildOptions(settings?: WebviewBuildSettings): BuildOptions;

export declare function buildWebviews(settings?: WebviewBuildSettings & { watch?: false }): Promise<BuildResult>;
export declare function buildWebviews(settings: WebviewBuildSettings & { watch: true }): Promise<BuildContext>;
