"""The ribbon's XML (customUI) of the desktop add-in: where its sources are, and what its
controls call — shared by the check (addin.py) and the build (xlam.py)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

from putuo_xl.errors import InputError

CUSTOMUI_NS = ("http://schemas.microsoft.com/office/2006/01/customui",
               "http://schemas.microsoft.com/office/2009/07/customui")
# Ribbon attributes that name a VBA callback.
CALLBACK_ATTRS = ("onAction", "onLoad", "getLabel", "getEnabled", "getVisible", "getImage",
                  "getScreentip", "getSupertip", "getPressed", "getText", "onChange",
                  "getItemCount", "getItemLabel", "getItemID", "getSelectedItemIndex",
                  "getKeytip", "getSize", "getShowLabel", "getShowImage", "getDescription")


def default_macros_dir() -> Path:
    """putuo_xl/data/macros: the VBA modules and the ribbon XML (package data)."""
    from putuo_xl.resources import resource_dir
    return resource_dir("macros")


@dataclass
class Control:
    kind: str          # button, toggleButton, …
    id: str
    label: str
    tag: str
    callbacks: dict[str, str]   # attribute -> callback name


def parse_ribbon(xml: bytes | str) -> tuple[ET.Element, list[Control]]:
    try:
        root = ET.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml)
    except ET.ParseError as e:
        raise InputError(f"功能區 XML 格式錯誤:{e}。") from None
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if ns not in CUSTOMUI_NS or not root.tag.endswith("customUI"):
        raise InputError(f"這不是 Office 功能區 XML(根元素 {root.tag})。")
    controls = []
    for el in root.iter():
        name = el.tag.split("}")[-1]
        cbs = {a: el.get(a) for a in CALLBACK_ATTRS if el.get(a)}
        if name == "customUI":
            if cbs:
                controls.append(Control(name, "", "", "", cbs))
            continue
        if el.get("id") is None and not cbs:
            continue
        controls.append(Control(name, el.get("id") or "", el.get("label") or "", el.get("tag") or "", cbs))
    return root, controls
