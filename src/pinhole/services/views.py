"""Honest views: which requests count as a view of an image (docs/web.md, "Views").

A view is another person's request of the image's original or of a variant, or another person's load of its
public viewer page. Not counted:
- requests by whoever may change the image (its owner, the owning client's key acting for them, an admin);
- images that pinhole's own pages load (thumbnails in grids and albums, previews, the viewer page's picture):
  the browser marks them `Sec-Fetch-Site: same-origin`, and the page that shows them counted once already (or
  was the owner's);
- HEAD requests (nothing was seen).
Every API calls `counts_as_view` through the shared delivery code, with the principal that asked.
"""

from __future__ import annotations

from collections.abc import Mapping

from pinhole.security import policy
from pinhole.security.policy import Owned
from pinhole.security.principal import Principal

SAME_ORIGIN = "same-origin"


def embedded_by_us(headers: Mapping[str, str]) -> bool:
    """True for an image one of pinhole's own pages loaded (a thumbnail, a preview): not a view of its own.
    A navigation (`Sec-Fetch-Dest: document`, a link on our pages followed) is a visit, and may count."""
    same_origin = headers.get("sec-fetch-site", "").lower() == SAME_ORIGIN
    return same_origin and headers.get("sec-fetch-dest", "").lower() != "document"


def counts_as_view(viewer: Principal | None, image: Owned, *, method: str, headers: Mapping[str, str]) -> bool:
    if method != "GET" or embedded_by_us(headers):
        return False
    if viewer is None or viewer.is_anonymous:
        return True
    return not policy.can_modify_image(viewer, image)
