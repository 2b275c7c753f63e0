"""Font files bundled with the project (see README.md in this folder for sources and licences)."""

from pathlib import Path

FONTS_DIR = Path(__file__).resolve().parent

CJK_SANS = FONTS_DIR / "WenQuanYiMicroHei.ttf"
"""WenQuanYi Micro Hei: CJK + Latin sans-serif, TrueType outlines, Apache-2.0."""

MONO_ASCII = FONTS_DIR / "WenQuanYiMicroHeiMono-ASCII.ttf"
"""WenQuanYi Micro Hei Mono subset to printable ASCII, for pickup codes."""

__all__ = ["CJK_SANS", "FONTS_DIR", "MONO_ASCII"]
