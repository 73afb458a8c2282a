// A minimal DAP client over TCP, speaking to the debugpy of a pytestd debug run the way VS Code does (initialize,
// attach with the extension's configuration, breakpoints, configurationDone), so the unit tests can drive a real
// debug run and feed its messages to the extension's SessionEndWatch.

import { connect, type Socket } from "node:net";

export interface DapMessage {
  seq: number;
  type: "request" | "response" | "event";
  command?: string;
  event?: string;
  request_seq?: number;
  success?: boolean;
  message?: string;
  body?: Record<string, unknown>;
  arguments?: Record<string, unknown>;
}

export class DapClient {
  private seq = 1;
  private buffer = Buffer.alloc(0);
  private readonly pending = new Map<number, (m: DapMessage) => void>();
  private readonly waiters: { match: (m: DapMessage) => boolean; resolve: (m: DapMessage) => void }[] = [];
  /** Every event received, in order. */
  readonly events: DapMessage[] = [];

  private constructor(
    private readonly socket: Socket,
    private readonly tap: { sent(m: DapMessage): void; received(m: DapMessage): void },
  ) {
    socket.on("data", (chunk: Buffer) => this.read(chunk));
  }

  static open(
    host: string,
    port: number,
    tap: { sent(m: DapMessage): void; received(m: DapMessage): void } = { sent: () => undefined, received: () => undefined },
  ): Promise<DapClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new DapClient(socket, tap)));
      socket.once("error", reject);
    });
  }

  /** Sends a request and resolves with its response (a failed one rejects). */
  request(command: string, args: Record<string, unknown> = {}): Promise<DapMessage> {
    const message: DapMessage = { seq: this.seq++, type: "request", command, arguments: args };
    const answer = new Promise<DapMessage>((resolve, reject) => {
      this.pending.set(message.seq, (m) => (m.success === true ? resolve(m) : reject(new Error(`${command}: ${m.message}`))));
    });
    this.tap.sent(message);
    const json = Buffer.from(JSON.stringify(message), "utf8");
    this.socket.write(`Content-Length: ${json.length}\r\n\r\n`);
    this.socket.write(json);
    return answer;
  }

  /** The first event named so from now on, or one already received when `seen` allows it. */
  event(name: string, seen = false): Promise<DapMessage> {
    const old = seen ? this.events.find((e) => e.event === name) : undefined;
    if (old !== undefined) return Promise.resolve(old);
    return new Promise((resolve) => this.waiters.push({ match: (m) => m.event === name, resolve }));
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf("\r\n\r\n");
      if (headerEnd < 0) return;
      const length = /Content-Length: (\d+)/i.exec(this.buffer.subarray(0, headerEnd).toString("ascii"));
      if (length === null) throw new Error("DAP: a message without Content-Length");
      const start = headerEnd + 4;
      const end = start + Number(length[1]);
      if (this.buffer.length < end) return;
      const message = JSON.parse(this.buffer.subarray(start, end).toString("utf8")) as DapMessage;
      this.buffer = this.buffer.subarray(end);
      this.tap.received(message);
      this.dispatch(message);
    }
  }

  private dispatch(m: DapMessage): void {
    if (m.type === "response" && m.request_seq !== undefined) {
      this.pending.get(m.request_seq)?.(m);
      this.pending.delete(m.request_seq);
    } else if (m.type === "event") {
      this.events.push(m);
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        const w = this.waiters[i];
        if (w !== undefined && w.match(m)) {
          this.waiters.splice(i, 1);
          w.resolve(m);
        }
      }
    }
  }
}
