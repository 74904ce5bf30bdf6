// Compares two thumbnails by their decoded pixels, every frame of an animation
// included, and their format. Exits 0 when they are equal; otherwise prints
// the first difference and exits 1.
import sharp from "sharp";

const [expectedPath, actualPath] = process.argv.slice(2);
if (!expectedPath || !actualPath) {
  console.error("usage: node compare-thumbnails.mjs EXPECTED ACTUAL");
  process.exit(64);
}

async function decode(file) {
  const image = sharp(file, { animated: true });
  const metadata = await image.metadata();
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  return { metadata, data, info };
}

const expected = await decode(expectedPath);
const actual = await decode(actualPath);

const fields = [
  ["format", expected.metadata.format, actual.metadata.format],
  ["pages", expected.metadata.pages ?? 1, actual.metadata.pages ?? 1],
  ["delay", JSON.stringify(expected.metadata.delay), JSON.stringify(actual.metadata.delay)],
  ["width", expected.info.width, actual.info.width],
  ["height", expected.info.height, actual.info.height],
  ["channels", expected.info.channels, actual.info.channels],
];
for (const [name, expectedValue, actualValue] of fields) {
  if (expectedValue !== actualValue) {
    console.error(`${name} differs: expected ${expectedValue}, got ${actualValue}`);
    process.exit(1);
  }
}

if (!expected.data.equals(actual.data)) {
  let index = 0;
  while (index < expected.data.length && expected.data[index] === actual.data[index]) index++;
  const pixel = Math.floor(index / expected.info.channels);
  console.error(
    `pixels differ from byte ${index} (pixel ${pixel} of a ${expected.info.width}x${expected.info.height} frame stack)`,
  );
  process.exit(1);
}
console.log(
  `equal: ${expected.metadata.format} ${expected.info.width}x${expected.info.height}, ${expected.metadata.pages ?? 1} frame(s)`,
);
