// Prints the alpha value (0-255) of the pixel at X,Y of an image's first frame.
import sharp from "sharp";

const [file, xText, yText] = process.argv.slice(2);
if (!file || !xText || !yText) {
  console.error("usage: node pixel-alpha.mjs FILE X Y");
  process.exit(64);
}

const { data, info } = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
const x = Number(xText);
const y = Number(yText);
if (!(x >= 0 && x < info.width && y >= 0 && y < info.height)) {
  console.error(`pixel ${x},${y} is outside the ${info.width}x${info.height} image`);
  process.exit(64);
}
console.log(data[(y * info.width + x) * info.channels + 3]);
