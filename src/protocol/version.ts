/**
 * The protocol's version, in a module of its own with no imports: the host's
 * channel needs it at load, and the extension's activation must not load zod
 * (see host-channel.ts). Bumped on any incompatible change; the ready
 * handshake refuses a mismatch.
 */
export const PROTOCOL_VERSION = 1;
