/**
 * Which input a displayed video frame shows: matching frames to their metadata.
 *
 * The streamer sends, per video frame, a record on the `frames` channel keyed by the
 * frame's RTP timestamp as this viewer receives it (docs/protocol.md, `frame.rtp`).
 * The browser tells us the RTP timestamp of each frame it presents
 * (`requestVideoFrameCallback` metadata.rtpTimestamp, HTML "video.requestVideoFrameCallback"
 * draft). Joining the two gives, for the frame on screen: the input sequence number it
 * applied (motion-to-photon) and the camera pose it was rendered for (reprojection).
 *
 * Both logs are small bounded maps: records arrive out of order on an unreliable
 * channel, and a few seconds of history covers any realistic latency.
 * Pure, no DOM.
 */

/** @typedef {import("./protocol.js").FrameInfo} FrameInfo */
/** @typedef {import("./quat.js").Quat} Quat */

/** A bounded insertion-ordered map: the oldest entry goes first when full. */
class BoundedMap {
  /** @param {number} capacity */
  constructor(capacity) {
    this.capacity = capacity;
    /** @type {Map<number, any>} */
    this.map = new Map();
  }

  /** @param {number} key @param {any} value */
  set(key, value) {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) {
      this.map.delete(/** @type {number} */ (this.map.keys().next().value));
    }
  }

  /** @param {number} key */
  get(key) {
    return this.map.get(key);
  }

  get size() {
    return this.map.size;
  }
}

/** Frame records by RTP timestamp (~4 s at 60 fps). */
export class FrameLedger {
  /** @param {number} [capacity] */
  constructor(capacity = 256) {
    this.frames = new BoundedMap(capacity);
    /** @type {FrameInfo | null} the newest record by frame id */
    this.latest = null;
  }

  /** @param {FrameInfo} frame */
  add(frame) {
    // The very first frame of a viewer has no RTP timestamp yet (its origin is not
    // known when it is sent): it can only ever be "latest", never matched.
    if (frame.rtp !== null && frame.rtp !== undefined) this.frames.set(frame.rtp >>> 0, frame);
    if (!this.latest || frame.id > this.latest.id) this.latest = frame;
  }

  /**
   * The record of a presented frame, or null if it was lost or not yet arrived.
   * @param {number | undefined} rtpTimestamp
   * @returns {FrameInfo | null}
   */
  lookup(rtpTimestamp) {
    if (rtpTimestamp === undefined || rtpTimestamp === null) return null;
    return this.frames.get(rtpTimestamp >>> 0) ?? null;
  }
}

/** The head orientations we sent, by sequence number (~5 s of 90 Hz tracking). */
export class PoseLog {
  /** @param {number} [capacity] */
  constructor(capacity = 512) {
    this.poses = new BoundedMap(capacity);
  }

  /**
   * @param {number} seq
   * @param {ArrayLike<number>} orientation
   */
  add(seq, orientation) {
    this.poses.set(seq, [orientation[0], orientation[1], orientation[2], orientation[3]]);
  }

  /**
   * @param {number | null | undefined} seq
   * @returns {Quat | null}
   */
  orientation(seq) {
    if (seq === null || seq === undefined) return null;
    return this.poses.get(seq) ?? null;
  }
}

/**
 * The head orientation (in the XR reference space) a frame was rendered for.
 *
 * The streamer renders with camera = navigation origin ∘ head (streamer/input.py), and
 * the navigation origin turns with sticks and keys. Reprojection must only undo *head*
 * motion, so the best answer is the head orientation we ourselves sent with the input
 * sample the frame applied (`frame.seq`). Only if that sample is no longer in our log
 * do we fall back to `frame.pose`, which equals the head orientation as long as the
 * trainee has not turned with a stick.
 * @param {FrameInfo} frame
 * @param {PoseLog} poses
 * @returns {Quat}
 */
export function renderHeadOrientation(frame, poses) {
  const sent = poses.orientation(frame.seq);
  if (sent) return sent;
  const q = frame.pose.q;
  return [q[0], q[1], q[2], q[3]];
}
