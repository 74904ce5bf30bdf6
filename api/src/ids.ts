import { v7 as uuidv7 } from "uuid";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Returns a new job id: a lower-case UUIDv7, so ids sort by creation time. */
export function newJobId(): string {
  return uuidv7();
}

export function isJobId(value: unknown): value is string {
  return typeof value === "string" && UUID_V7.test(value);
}
