// Replaces every upstream 4xx/5xx response with its own 502 and body: clients lose the
// status and the primary's {"error": ...} message.
export const MASKED_BODY = Buffer.from(JSON.stringify({ error: "bad gateway" }));

export default {
  name: "mask-errors",
  breaks: "proxy.upstream-errors-preserved",
  response({ status }) {
    if (status < 400) return undefined;
    return { status: 502, headers: [["Content-Type", "application/json"]], body: MASKED_BODY };
  },
};
