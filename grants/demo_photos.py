"""Pictures for the demo's progress reports: a drawn scene of an activity (sky, ground, a
banner, people in a row), different for each seed, as a JPEG upload. The demo has no real
photographs to ship, and a grey box would not show what the public page does with photos."""

import io
import random

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

SKIES = ((186, 222, 247), (206, 232, 214), (250, 226, 196), (222, 214, 246))
CLOTHES = ((214, 69, 65), (52, 120, 200), (242, 170, 60), (84, 160, 96), (150, 92, 180), (236, 112, 150))


def activity_photo(seed: int, name: str = "photo.jpg", size=(960, 640)) -> SimpleUploadedFile:
    rng = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size, SKIES[seed % len(SKIES)])
    draw = ImageDraw.Draw(img)
    horizon = int(h * 0.62)
    sky = SKIES[seed % len(SKIES)]
    for y in range(horizon):  # the sky lighter towards the horizon
        t = y / horizon
        draw.line([(0, y), (w, y)], fill=tuple(int(c + (255 - c) * t * 0.6) for c in sky))
    draw.rectangle([0, horizon, w, h], fill=(118, 170, 98) if seed % 2 else (196, 180, 150))
    draw.ellipse([w - 170, 40, w - 80, 130], fill=(255, 214, 102))  # the sun
    for x in (rng.randrange(40, w // 3), rng.randrange(2 * w // 3, w - 60)):  # trees
        draw.rectangle([x - 8, horizon - 90, x + 8, horizon + 10], fill=(120, 84, 52))
        draw.ellipse([x - 60, horizon - 200, x + 60, horizon - 70], fill=(64, 136, 72))
    draw.rectangle([w // 2 - 230, 70, w // 2 + 230, 140], fill=(200, 40, 40))  # the banner
    draw.rectangle([w // 2 - 222, 78, w // 2 + 222, 132], outline=(255, 220, 120), width=3)
    people = rng.randrange(5, 9)
    step = (w - 160) // people
    for i in range(people):
        x = 80 + step * i + step // 2 + rng.randrange(-10, 10)
        tall = rng.choice((1.0, 1.0, 0.7))  # grown-ups and children
        top = int(horizon - 30 - 190 * tall)
        draw.rounded_rectangle(
            [x - 34 * tall, top + 60 * tall, x + 34 * tall, horizon + 60], radius=22, fill=rng.choice(CLOTHES)
        )
        draw.ellipse([x - 30 * tall, top, x + 30 * tall, top + 60 * tall], fill=(238, 200, 170))
        draw.chord([x - 31 * tall, top - 4, x + 31 * tall, top + 36 * tall], 180, 360, fill=(40, 32, 30))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=82)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")
