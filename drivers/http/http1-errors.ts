// The HTTP/1.1 client pool's own failures (http1-client.ts), in a module of their own so that
// client.ts can tell them apart without loading node:tls before the first request.

/** The answer passed the size the caller allows; the connection is dropped unread. */
export class Http1ResponseTooLarge extends Error {}

/** The peer answered with something that is not an HTTP/1.1 answer we can frame. */
export class Http1BadAnswer extends Error {}
