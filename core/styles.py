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


def _symbol(index, colour: str, kind: str = "fill") -> str:
    """A simple fill (polygons) or marker (points) symbol."""
    if kind == "marker":
        layer_class, symbol_type = "SimpleMarker", "marker"
        props = {"color": _rgba(colour), "name": "circle", "outline_color": "35,35,35,255",
                 "outline_width": "0.1", "size": "1.6", "size_unit": "MM"}
    else:
        layer_class, symbol_type = "SimpleFill", "fill"
        props = {"color": _rgba(colour), "outline_color": "255,255,255,255",
                 "outline_style": "solid", "outline_width": "0.1", "outline_width_unit": "MM",
                 "style": "solid", "joinstyle": "bevel"}
    prop_xml = "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in props.items())
    return (f'<symbol type="{symbol_type}" name="{index}" alpha="1" clip_to_extent="1" '
            f'force_rhr="0"><layer class="{layer_class}" enabled="1" pass="0" locked="0">'
            f"{prop_xml}</layer></symbol>")


def _qml(renderer: str, display_field: str, map_tip: str, extra: str = "") -> str:
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.0" styleCategories="Symbology|Labeling|Fields|MapTips">'
        f"{renderer}{extra}"
        f"<previewExpression>{_xml_text(_quote_field(display_field))}</previewExpression>"
        f"<mapTip>{_xml_text(map_tip)}</mapTip>"
        "</qgis>\n"
    )


def _categories_xml(segments: dict[int, str], field: str, kind: str,
                    unclassified: bool) -> str:
    categories, symbols = [], []
    for i, (number, name) in enumerate(sorted(segments.items())):
        categories.append(f'<category render="true" symbol="{i}" value="{number}" '
                          f"label={quoteattr(legend_label(number, name))}/>")
        symbols.append(_symbol(i, segment_colour(number), kind))
    if unclassified:
        i = len(categories)
        categories.append(f'<category render="true" symbol="{i}" value="" '
                          'label="Not classified (missing data)"/>')
        symbols.append(_symbol(i, UNCLASSIFIED_COLOUR, kind))
    return (f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(field)} symbollevels="0" '
            'enableorderby="0" forceraster="0">'
            f"<categories>{''.join(categories)}</categories>"
            f"<symbols>{''.join(symbols)}</symbols></renderer-v2>")


def segment_layer_qml(segments: dict[int, str], field: str = "segment",
                      name_field: str = "segment_name", unclassified: bool = False,
                      kind: str = "fill") -> str:
    """A categorised renderer: one category per segment, legend "n – name", in order;
    the segment name is the layer's display expression (identify results, map tips).
    ``kind``: "fill" for areas, "marker" for address points."""
    tip = f"[% {_quote_field(field)} %] – [% {_quote_field(name_field)} %]"
    return _qml(_categories_xml(segments, field, kind, unclassified), name_field, tip)


def ward_layer_qml(segments: dict[int, str], field: str = "dominant_segment",
                   name_field: str = "ward_name") -> str:
    """Wards coloured by their dominant segment and labelled with it."""
    label = (f"coalesce({_quote_field(name_field)}, \"ward_code\") || '\n' || "
             f"{_quote_field(field)} || ' – ' || \"dominant_segment_name\"")
    labeling = (
        '<labeling type="simple"><settings calloutType="simple">'
        f"<text-style fieldName={quoteattr(label)} isExpression=\"1\" fontSize=\"8\" "
        'textColor="0,0,0,255" fontWeight="75">'
        '<text-buffer bufferDraw="1" bufferSize="0.8" bufferColor="255,255,255,255"/>'
        "</text-style><placement placement=\"0\"/></settings></labeling>"
    )
    tip = f"[% {_quote_field(name_field)} %]: segment [% {_quote_field(field)} %]"
    return _qml(_categories_xml(segments, field, "fill", False), name_field, tip, labeling)


# Paul Tol's "YlOrBr" sequential scheme (colour-blind safe), five steps for rates
SEQUENTIAL = ("#FFFBD5", "#FEE391", "#FB9A29", "#CC4C02", "#662506")


def graduated_qml(field: str, breaks: list[float], display_field: str,
                  unit: str = "") -> str:
    """A graduated renderer with ``len(breaks) - 1`` classes from the sequential palette."""
    ranges, symbols = [], []
    colours = SEQUENTIAL if len(breaks) - 1 == len(SEQUENTIAL) else SEQUENTIAL[-(len(breaks) - 1):]
    for i, (low, high) in enumerate(zip(breaks[:-1], breaks[1:])):
        label = f"{low:.1f} – {high:.1f}{unit}"
        ranges.append(f'<range render="true" symbol="{i}" lower="{low:.6f}" upper="{high:.6f}" '
                      f"label={quoteattr(label)}/>")
        symbols.append(_symbol(i, colours[i]))
    renderer = (f'<renderer-v2 type="graduatedSymbol" attr={quoteattr(field)} '
                'graduatedMethod="GraduatedColor" symbollevels="0" enableorderby="0" '
                f'forceraster="0"><ranges>{"".join(ranges)}</ranges>'
                f'<symbols>{"".join(symbols)}</symbols>'
                '<mode name="quantile"/></renderer-v2>')
    return _qml(renderer, display_field, f"[% {_quote_field(display_field)} %]: "
                f"[% {_quote_field(field)} %]{unit}")


def _quote_field(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
