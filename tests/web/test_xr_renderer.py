"""The reprojection shader (clients/web/js/xr-renderer.js) in a real browser's WebGL:
every display pixel shows the texel that reprojection.js's homography names, for a
turned head and the right eye of a side-by-side frame, and the other eye's half is
never sampled (the border colour shows instead). No streamer needed.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from tests.web.conftest import new_page, serve_client_at

pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]

ORIGIN = "http://ixstream.test"

#: Draws a 256×128 texture of 16×16 cells coloured by cell index through the shader,
#: then checks a grid of display pixels against the homography, in the page.
CHECK = """async () => {
  const { ReprojectingRenderer } = await import("/app/js/xr-renderer.js");
  const { reprojectEye, sampleAt } = await import("/app/js/reprojection.js");
  const { fromAxisAngle, multiply } = await import("/app/js/quat.js");
  const texture = document.createElement("canvas");
  texture.width = 256; texture.height = 128;
  const ctx = texture.getContext("2d");
  for (let cy = 0; cy < 8; cy++) for (let cx = 0; cx < 16; cx++) {
    ctx.fillStyle = `rgb(${cx * 16}, ${cy * 32}, 200)`;
    ctx.fillRect(cx * 16, cy * 16, 16, 16);
  }
  const W = 200, H = 160;
  const canvas = document.createElement("canvas");
  canvas.width = W; canvas.height = H;
  const gl = canvas.getContext("webgl2", { antialias: false, preserveDrawingBuffer: true });
  const renderer = new ReprojectingRenderer(gl);
  renderer.upload(texture, texture.width, texture.height);
  // Display frustum of a headset's right eye; the frame was rendered 12° to the right
  // and 5° lower than where the head looks now.
  const fov = { up: 0.96, down: 1.19, left: 0.84, right: 1.15 };
  const near = 0.05, far = 100;
  const P = new Float32Array(16);
  P[0] = 2 / (fov.left + fov.right); P[8] = (fov.right - fov.left) / (fov.left + fov.right);
  P[5] = 2 / (fov.up + fov.down); P[9] = (fov.up - fov.down) / (fov.up + fov.down);
  P[10] = -(far + near) / (far - near); P[14] = -2 * far * near / (far - near); P[11] = -1;
  const degrees = Math.PI / 180;
  const renderOrientation = multiply(
    fromAxisAngle([0, 1, 0], -12 * degrees), fromAxisAngle([1, 0, 0], -5 * degrees));
  const displayOrientation = [0, 0, 0, 1];
  const projection = reprojectEye({
    displayProjection: P, displayOrientation, renderFov: fov, renderOrientation,
    eye: 1, sideBySide: true,
  });
  renderer.clear();
  renderer.drawEye({ x: 0, y: 0, width: W, height: H }, projection);
  const pixels = new Uint8Array(W * H * 4);
  gl.readPixels(0, 0, W, H, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
  const result = { checked: 0, border: 0, inside: 0, wrong: [] };
  for (let py = 2; py < H; py += 7) for (let px = 2; px < W; px += 7) {
    const x = ((px + 0.5) / W) * 2 - 1, y = ((py + 0.5) / H) * 2 - 1;
    const i = (py * W + px) * 4;
    const got = [pixels[i], pixels[i + 1], pixels[i + 2]];
    const st = sampleAt(projection.homography, x, y);
    const [s0, t0, s1, t1] = projection.bounds;
    let want;
    if (!st || st[0] < s0 || st[0] > s1 || st[1] < t0 || st[1] > t1) {
      want = [8, 10, 15]; result.border++;
    } else {
      const tx = st[0] * 256, ty = st[1] * 128;
      if (tx % 16 < 2 || tx % 16 > 14 || ty % 16 < 2 || ty % 16 > 14) continue;  // filtered edge
      want = [Math.floor(tx / 16) * 16, Math.floor(ty / 16) * 32, 200]; result.inside++;
      if (Math.floor(tx / 16) < 8) result.wrong.push({ px, py, why: "sampled the left eye" });
    }
    result.checked++;
    if (got.some((v, k) => Math.abs(v - want[k]) > 3)) result.wrong.push({ px, py, got, want });
  }
  return result;
}"""


async def test_the_shader_shows_each_pixel_where_the_homography_says(browser: Browser) -> None:
    page = await new_page(browser)
    await serve_client_at(page, ORIGIN)
    await page.goto(f"{ORIGIN}/app/_blank.html")
    result = await page.evaluate(CHECK)
    assert result["inside"] > 200, result
    assert result["border"] > 20, result
    assert result["wrong"] == [], result["wrong"][:5]
