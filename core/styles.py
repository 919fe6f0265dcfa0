"""The segment palette and the QGIS style (QML) stored with saved segment layers.

The palette is Paul Tol's "muted" qualitative scheme, designed to stay distinguishable for
people with colour-vision deficiency, with a dark grey as the tenth colour; segment n always
takes colour n, so maps stay comparable between runs and areas. Beyond ten segments the
colours repeat.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

PALETTE = (
    "#332288", "#88CCEE", "#44AA99", "#117733", "#999933",
    "#DDCC77", "#CC6677", "#882255", "#AA4499", "#555555",
)
UNCLASSIFIED_COLOUR = "#DDDDDD"


def segment_colour(segment: int) -> str:
    return PALETTE[(int(segment) - 1) % len(PALETTE)]


def legend_label(segment: int, name: str) -> str:
    return f"{segment} – {name}"


def _rgba(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},255"


def _fill_symbol(index: int, colour: str) -> str:
    props = {
        "color": _rgba(colour), "outline_color": "255,255,255,255", "outline_style": "solid",
        "outline_width": "0.1", "outline_width_unit": "MM", "style": "solid",
        "joinstyle": "bevel",
    }
    prop_xml = "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in props.items())
    return (f'<symbol type="fill" name="{index}" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" pass="0" locked="0">{prop_xml}</layer>'
            "</symbol>")


def segment_layer_qml(segments: dict[int, str], field: str = "segment",
                      name_field: str = "segment_name", unclassified: bool = False) -> str:
    """A categorised renderer: one category per segment, legend "n – name", in order;
    the segment name is the layer's display expression (identify results, map tips)."""
    categories, symbols = [], []
    for i, (number, name) in enumerate(sorted(segments.items())):
        categories.append(f'<category render="true" symbol="{i}" value="{number}" '
                          f"label={quoteattr(legend_label(number, name))}/>")
        symbols.append(_fill_symbol(i, segment_colour(number)))
    if unclassified:
        i = len(categories)
        categories.append(f'<category render="true" symbol="{i}" value="" '
                          'label="Not classified (missing data)"/>')
        symbols.append(_fill_symbol(i, UNCLASSIFIED_COLOUR))
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.0" styleCategories="Symbology|Fields|MapTips">'
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(field)} symbollevels="0" '
        'enableorderby="0" forceraster="0">'
        f"<categories>{''.join(categories)}</categories>"
        f"<symbols>{''.join(symbols)}</symbols>"
        "</renderer-v2>"
        f"<previewExpression>{_xml_text(_quote_field(name_field))}</previewExpression>"
        f"<mapTip>{_xml_text('[% ' + _quote_field(field) + ' %] – [% ' + _quote_field(name_field) + ' %]')}</mapTip>"  # noqa: E501
        "<layerGeometryType>2</layerGeometryType>"
        "</qgis>\n"
    )


def _quote_field(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
