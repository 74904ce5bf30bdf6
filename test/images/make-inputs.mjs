// Writes the image tests' inputs into the folder named by the first argument:
// real encoded files made with sharp, one for each path the runner takes
// (orientation, alpha, animation, CMYK, vector), plus one that is no image.
import { Buffer } from "node:buffer";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";

const outputDir = process.argv[2];
if (!outputDir) {
  console.error("usage: node make-inputs.mjs OUTPUT_DIR");
  process.exit(64);
}

// A diagonal RGB gradient, so that any shift, flip or scaling error changes pixels.
function gradient(width, height) {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 3;
      pixels[offset] = Math.round((255 * x) / (width - 1));
      pixels[offset + 1] = Math.round((255 * y) / (height - 1));
      pixels[offset + 2] = (x * 7 + y * 3) % 256;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } });
}

function solidFrame(width, height, background) {
  return sharp({ create: { width, height, channels: 4, background } })
    .png()
    .toBuffer();
}

const frames = await Promise.all([
  solidFrame(120, 80, { r: 220, g: 30, b: 30, alpha: 1 }),
  solidFrame(120, 80, { r: 30, g: 200, b: 30, alpha: 1 }),
  solidFrame(120, 80, { r: 30, g: 30, b: 220, alpha: 1 }),
]);

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="120" viewBox="0 0 240 120">
  <rect x="4" y="4" width="232" height="112" rx="16" fill="#f5c518" stroke="#222" stroke-width="6"/>
  <circle cx="60" cy="60" r="36" fill="#1e88e5"/>
  <path d="M120 90 L160 30 L200 90 Z" fill="#e53935"/>
</svg>
`;

const inputs = {
  // Landscape pixels with EXIF orientation 6: the thumbnail must be upright.
  "rotated.jpg": await gradient(640, 360)
    .jpeg({ quality: 90 })
    .withMetadata({ orientation: 6 })
    .toBuffer(),
  "alpha.png": await gradient(300, 120).ensureAlpha(0.4).png().toBuffer(),
  "animated.gif": await sharp(frames, { join: { animated: true } })
    .gif({ delay: [100, 200, 300], loop: 0 })
    .toBuffer(),
  "photo.webp": await gradient(200, 200).webp({ quality: 80 }).toBuffer(),
  "cmyk.jpg": await gradient(160, 160).toColourspace("cmyk").jpeg().toBuffer(),
  "drawing.svg": Buffer.from(svg),
  "not-an-image.txt": Buffer.from("This is a text file, not an image.\n"),
};

for (const [name, bytes] of Object.entries(inputs)) {
  await writeFile(path.join(outputDir, name), bytes);
}
console.log(Object.keys(inputs).join("\n"));
