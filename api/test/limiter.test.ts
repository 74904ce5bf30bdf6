import { expect } from "chai";

import { Limiter } from "../src/limiter.js";

describe("Limiter", () => {
  it("runs at most the limit at once and every task in the end", async () => {
    const limiter = new Limiter(3);
    let running = 0;
    let maxRunning = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limiter.run(async () => {
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          await new Promise((resolve) => setTimeout(resolve, 1));
          running -= 1;
          return i;
        }),
      ),
    );
    expect(maxRunning).to.equal(3);
    expect(results).to.deep.equal(Array.from({ length: 20 }, (_, i) => i));
  });

  it("frees the slot of a task that throws", async () => {
    const limiter = new Limiter(1);
    const failed = await limiter
      .run(() => Promise.reject(new Error("boom")))
      .catch((err: Error) => err.message);
    expect(failed).to.equal("boom");
    expect(await limiter.run(async () => "next")).to.equal("next");
  });
});
