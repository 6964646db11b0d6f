/**
 * Whether to color what goes to `stream`: a terminal whose hasColors() says so. Node's
 * tty.WriteStream.hasColors() honours NO_COLOR, FORCE_COLOR and TERM=dumb; pipes and files get
 * no color.
 */
export function streamHasColors(stream: NodeJS.WritableStream): boolean {
  const tty = stream as Partial<Pick<NodeJS.WriteStream, 'isTTY' | 'hasColors'>>;
  return tty.isTTY === true && typeof tty.hasColors === 'function' && tty.hasColors();
}
