"""View-frustum culling of triangle clusters, so only what a camera can see is drawn.

On llvmpipe the scene costs as much at 64x36 as at 640x360: the price is the
vertex and triangle-setup pipeline, which runs on one thread, not the pixels.
Half of a street scene is behind the trainee at any moment, and the ground is
tessellated finely (for lamp-light pools), so drawing every vertex every frame
is the largest avoidable cost. Triangles are grouped once, at load time, into
clusters by (draw rank, grid cell); each frame only the clusters whose bounding
spheres touch a view frustum are drawn, as a few contiguous ranges.

Pure numpy, no GL: `cluster_order` decides the vertex order, `Clusters` holds
the ranges, `visible_ranges` answers per frame (microseconds for hundreds of
clusters).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

CELL_M = 12.0  # about a house front: small enough to cull, big enough to keep draws few

F32 = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]


def triangle_cells(positions: F32, cell_m: float = CELL_M) -> Ints:
    """A grid-cell key per vertex (equal for a triangle's three), from its centroid in x/z."""
    centroids = positions.reshape(-1, 3, 3).mean(axis=1)
    cells = np.floor(centroids[:, [0, 2]] / cell_m).astype(np.int64)
    cells -= cells.min(axis=0, initial=0)
    span = int(cells[:, 1].max(initial=0)) + 1
    keys = cells[:, 0] * span + cells[:, 1]
    return np.repeat(keys, 3)


def cluster_order(rank: Ints, cells: Ints) -> npt.NDArray[np.intp]:
    """Vertex order grouping triangles by (rank, cell); stable, so triangles stay whole."""
    return np.lexsort((cells, rank)).astype(np.intp)


@dataclass(frozen=True, slots=True)
class Clusters:
    """Contiguous vertex ranges with bounding spheres."""

    first: Ints
    count: Ints
    centre: F32  # (k, 3)
    radius: F32  # (k,)

    @classmethod
    def from_sorted(cls, positions: F32, keys: Ints) -> Clusters:
        """Clusters from vertices already in `cluster_order`; `keys` identify a cluster."""
        if len(keys) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, empty, np.zeros((0, 3), np.float32), np.zeros(0, np.float32))
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        ends = np.r_[starts[1:], len(keys)]
        centres = np.zeros((len(starts), 3), dtype=np.float32)
        radii = np.zeros(len(starts), dtype=np.float32)
        for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
            chunk = positions[a:b]
            low, high = chunk.min(axis=0), chunk.max(axis=0)
            centres[i] = (low + high) / 2
            radii[i] = float(np.linalg.norm(chunk - centres[i], axis=1).max())
        return cls(starts.astype(np.int64), (ends - starts).astype(np.int64), centres, radii)

    def __len__(self) -> int:
        return len(self.first)

    def moved(self, offsets: F32) -> Clusters:
        """The same ranges with each sphere translated by its row of `offsets` (k, 3)."""
        return Clusters(self.first, self.count, self.centre + offsets, self.radius)


def frustum_planes(view_projection: F32) -> F32:
    """The six clip planes (a, b, c, d), normalised, of a view-projection matrix.

    Gribb & Hartmann, "Fast Extraction of Viewing Frustum Planes from the
    World-View-Projection Matrix" (2001): row 4 ± rows 1-3 of the matrix.
    """
    m = view_projection.astype(np.float64)
    planes = np.array(
        [m[3] + m[0], m[3] - m[0], m[3] + m[1], m[3] - m[1], m[3] + m[2], m[3] - m[2]]
    )
    norms = np.linalg.norm(planes[:, :3], axis=1, keepdims=True)
    return (planes / np.where(norms == 0, 1, norms)).astype(np.float32)


def visible_mask(clusters: Clusters, view_projections: list[F32]) -> npt.NDArray[np.bool_]:
    """Clusters whose sphere is inside (or crosses) at least one of the frustums."""
    visible = np.zeros(len(clusters), dtype=bool)
    for vp in view_projections:
        planes = frustum_planes(vp)
        distances = clusters.centre @ planes[:, :3].T + planes[:, 3]  # (k, 6)
        visible |= np.all(distances >= -clusters.radius[:, None], axis=1)
    return visible


def visible_ranges(clusters: Clusters, view_projections: list[F32]) -> list[tuple[int, int]]:
    """(first, count) vertex ranges to draw, adjacent visible clusters merged."""
    mask = visible_mask(clusters, view_projections)
    return merged_ranges(
        zip(clusters.first[mask].tolist(), clusters.count[mask].tolist(), strict=True)
    )


def merged_ranges(pairs: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """(first, count) pairs in ascending order, adjacent ones merged into one draw."""
    ranges: list[tuple[int, int]] = []
    for first, count in pairs:
        if ranges and ranges[-1][0] + ranges[-1][1] == first:
            ranges[-1] = (ranges[-1][0], ranges[-1][1] + count)
        else:
            ranges.append((first, count))
    return ranges
