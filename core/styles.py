"""The segment palette, the QGIS styles (QML) stored with the saved layers, and the words
that describe each layer (its abstract).

The palette is Paul Tol's "muted" qualitative scheme, designed to stay distinguishable for
people with colour-vision deficiency, with a dark grey as the tenth colour; segment n always
takes colour n, so maps stay comparable between runs and areas. Beyond ten segments the
colours repeat.

- Segments: one category per segment, legend "n – name" in full, the name in map tips and
  identify results.
- Address points: the segment's colour with a dark outline and a thin white halo (they stand
  out from the area beneath, even one of the same segment), sized in metres on the ground so
  they grow as you zoom in, kept between 1.8 and 5 mm on screen (visible at borough scale,
  not blobs in a street).
- Incident rates: zero in a class of its own ("0 – no incidents"), then five quantile
  classes of the non-zero rates, under a legend heading that gives the unit and the dates.
- Wards: coloured by dominant segment, labelled with their name and that segment's number
  (its name too when zoomed in); labels never overlap.

The abstracts are stored as the layer's description in the GeoPackage (``gpkg_contents``),
which QGIS reads as the layer metadata's abstract when the GeoPackage is opened.

Names are data: a print layout's legend evaluates ``[% ... %]`` in legend entries (and a
layout label in any text pasted into it, an abstract too), so every legend label and
abstract is stored through ``as_written`` and shows as written, never evaluated; field
names in expressions are quoted (``_quote_field``), user text in map tips goes through
``tip_text`` and field values in them are escaped (``_tip_field``).
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

PALETTE = (
    "#332288", "#88CCEE", "#44AA99", "#117733", "#999933",
    "#DDCC77", "#CC6677", "#882255", "#AA4499", "#555555",
)
UNCLASSIFIED_COLOUR = "#DDDDDD"
# the visits' priority classes, 1 (very high) to 4: a red ramp, hotter for higher, that no
# segment colour shares (a visit of priority 1 must not read as segment 1)
PRIORITY_COLOURS = {1: "#B2182B", 2: "#EF8A62", 3: "#FDDBC7", 4: "#F7F7F7"}
# "no data" (an area not classified) is hatched, never a flat grey: the tenth segment's
# dark grey must not read as missing data
NO_DATA_LABEL = "No data (not classified)"
NO_DATA_HATCH = "#777777"
OUTLINE_COLOUR = "#232323"  # the address points' outline: dark, on every segment colour
# address points: this many metres across on the ground, but never smaller or larger than
# these sizes on screen (mm)
MARKER_METRES, MARKER_MIN_MM, MARKER_MAX_MM = 20, 1.8, 5.0
MARKER_OUTLINE_MM = 0.3
MARKER_HALO_MM = 0.9  # the white ring under the outline: 0.3 mm shows outside it


def segment_colour(segment: int) -> str:
    return PALETTE[(int(segment) - 1) % len(PALETTE)]


def legend_label(segment: int, name: str) -> str:
    return f"{segment} – {name}"


def _rgba(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},255"


def _map_unit_scale(min_mm: float, max_mm: float) -> str:
    """QGIS's encoding of a map-unit size clamped to min_mm..max_mm on screen."""
    return f"3x:0,0,1,{min_mm},1,{max_mm}"


def _layer_xml(layer_class: str, props: dict) -> str:
    prop_xml = "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in props.items())
    return f'<layer class="{layer_class}" enabled="1" pass="0" locked="0">{prop_xml}</layer>'


def _symbol(index, colour: str, kind: str = "fill", outline_mm: float = 0.1,
            hatched: bool = False) -> str:
    """A simple fill (polygons), marker (points) or empty symbol (a legend heading).

    A marker is a circle in the segment's colour with a dark outline, over a white halo
    (a wider white ring drawn first) so that it stands out from any area colour, its own
    segment's included."""
    if kind == "marker":
        symbol_type = "marker"
        size = {"size": str(MARKER_METRES), "size_unit": "MapUnit",
                "size_map_unit_scale": _map_unit_scale(MARKER_MIN_MM, MARKER_MAX_MM),
                "name": "circle", "outline_style": "solid", "outline_width_unit": "MM"}
        layers = [
            _layer_xml("SimpleMarker", {**size, "color": "255,255,255,255",
                                        "outline_color": "255,255,255,255",
                                        "outline_width": str(MARKER_HALO_MM)}),
            _layer_xml("SimpleMarker", {**size, "color": _rgba(colour),
                                        "outline_color": _rgba(OUTLINE_COLOUR),
                                        "outline_width": str(MARKER_OUTLINE_MM)}),
        ]
    elif kind == "no_marker":  # a point layer's legend heading
        symbol_type = "marker"
        layers = [_layer_xml("SimpleMarker", {"color": "255,255,255,0", "name": "circle",
                                              "outline_style": "no", "size": "0"})]
    elif kind == "none":
        symbol_type = "fill"
        layers = [_layer_xml("SimpleFill", {"color": "255,255,255,0", "outline_style": "no",
                                            "style": "no"})]
    else:
        symbol_type = "fill"
        layers = [_layer_xml("SimpleFill", {
            "color": "255,255,255,255", "outline_style": "no", "style": "solid"}),
            _layer_xml("SimpleFill", {
                "color": _rgba(NO_DATA_HATCH), "outline_color": "255,255,255,255",
                "outline_style": "solid", "outline_width": str(outline_mm),
                "outline_width_unit": "MM", "style": "b_diagonal", "joinstyle": "bevel"})
        ] if hatched else [_layer_xml("SimpleFill", {
            "color": _rgba(colour), "outline_color": "255,255,255,255",
            "outline_style": "solid", "outline_width": str(outline_mm),
            "outline_width_unit": "MM", "style": "solid", "joinstyle": "bevel"})]
    return (f'<symbol type="{symbol_type}" name="{index}" alpha="1" clip_to_extent="1" '
            f'force_rhr="0">{"".join(layers)}</symbol>')


def _qml(renderer: str, display_field: str, map_tip: str, extra: str = "") -> str:
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.0" styleCategories="Symbology|Labeling|Fields|MapTips">'
        f"{renderer}{extra}"
        f"<previewExpression>{_xml_text(_quote_field(display_field))}</previewExpression>"
        f"<mapTip>{_xml_text(map_tip)}</mapTip>"
        "</qgis>\n"
    )


# a legend heading's category value: no class takes it (classes are numbered from 1)
HEADING_VALUE = -1


def _categories_xml(segments: dict[int, str], field: str, kind: str,
                    unclassified: bool, outline_mm: float = 0.1,
                    colours: dict[int, str] | None = None, heading: str = "") -> str:
    categories, symbols = [], []
    if heading:
        categories.append(f'<category render="true" symbol="0" value="{HEADING_VALUE}" '
                          f"label={quoteattr(as_written(heading))}/>")
        symbols.append(_symbol(0, "#FFFFFF", "no_marker" if kind == "marker" else "none"))
    for i, (number, name) in enumerate(sorted(segments.items()), start=len(categories)):
        categories.append(f'<category render="true" symbol="{i}" value="{number}" '
                          f"label={quoteattr(as_written(legend_label(number, name)))}/>")
        colour = colours[number] if colours else segment_colour(number)
        symbols.append(_symbol(i, colour, kind, outline_mm))
    if unclassified:
        i = len(categories)
        categories.append(f'<category render="true" symbol="{i}" value="" '
                          f'label={quoteattr(NO_DATA_LABEL)}/>')
        symbols.append(_symbol(i, UNCLASSIFIED_COLOUR, kind, hatched=kind == "fill"))
    return (f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(field)} symbollevels="0" '
            'enableorderby="0" forceraster="0">'
            f"<categories>{''.join(categories)}</categories>"
            f"<symbols>{''.join(symbols)}</symbols></renderer-v2>")


def fields_xml(fields: dict[str, tuple[str, int | None]]) -> str:
    """Fields' names in words (aliases: the attribute table's headings, the identify
    results) and, for numbers, the decimals they are shown to (a Range widget's precision,
    which the attribute table and forms use), from ``{field: (alias, decimals or None)}``."""
    widgets = "".join(
        f'<field name={quoteattr(name)} configurationFlags="None"><editWidget type="Range">'
        '<config><Option type="Map"><Option name="AllowNull" type="bool" value="true"/>'
        f'<Option name="Precision" type="int" value="{decimals}"/>'
        '<Option name="Style" type="QString" value="SpinBox"/></Option></config>'
        "</editWidget></field>"
        for name, (_, decimals) in fields.items() if decimals is not None)
    aliases = "".join(f"<alias field={quoteattr(name)} index=\"{i}\" "
                      f"name={quoteattr(as_written(alias))}/>"
                      for i, (name, (alias, _)) in enumerate(fields.items()))
    return f"<fieldConfiguration>{widgets}</fieldConfiguration><aliases>{aliases}</aliases>"


def segment_layer_qml(segments: dict[int, str], field: str = "segment",
                      name_field: str = "segment_name", unclassified: bool = False,
                      kind: str = "fill", colours: dict[int, str] | None = None,
                      heading: str = "", fields: dict | None = None) -> str:
    """A categorised renderer: one category per segment, legend "n – name", in order;
    the segment name is the layer's display expression (identify results, map tips).
    ``kind``: "fill" for areas, "marker" for address points; ``colours``: other classes'
    own colours (the visits' priorities) in place of the segments'; ``heading``: a first
    legend entry with no symbol that says of what the classes are, and when (as the
    incident rates' legend does); it matches no feature. ``fields``: the fields' names in
    words and decimals (``fields_xml``)."""
    tip = f"{_tip_field(field)} – {_tip_field(name_field)}"
    return _qml(_categories_xml(segments, field, kind, unclassified, colours=colours,
                                heading=heading), name_field, tip,
                fields_xml(fields) if fields else "")


# ward labels: text wrapped at this many characters, so that a long segment name takes
# two or three short lines rather than one line wider than the ward
WARD_LABEL_WRAP = 24
# zoomed in closer than 1:this, the ward labels also give the dominant segment's name
WARD_NAMES_SCALE = 15_000


def ward_layer_qml(segments: dict[int, str], field: str = "dominant_segment",
                   name_field: str = "ward_name") -> str:
    """Wards coloured by their dominant segment (the legend names it) and labelled with
    their name and that segment's number ("WARD NAME" over "segment n"), its name too once
    zoomed in closer than 1:``WARD_NAMES_SCALE`` ("n – name", wrapped). Labels never
    overlap: each is placed inside its ward where it fits (around its inside point when
    crowded), small, with a white buffer; one that cannot be placed clear of the others is
    left out at that scale (the colour still says the segment)."""
    segment = (f"CASE WHEN @map_scale < {WARD_NAMES_SCALE} THEN "
               f"{_quote_field(field)} || ' – ' || \"dominant_segment_name\" "
               f"ELSE 'segment ' || {_quote_field(field)} END")
    label = (f"upper(coalesce({_quote_field(name_field)}, \"ward_code\")) || "
             f"coalesce('\n' || {segment}, '')")
    labeling = (
        '<labeling type="simple"><settings calloutType="simple">'
        f"<text-style fieldName={quoteattr(label)} isExpression=\"1\" fontSize=\"7\" "
        'fontSizeUnit="Point" textColor="0,0,0,255" fontWeight="50" multilineHeight="1">'
        '<text-buffer bufferDraw="1" bufferSize="0.7" bufferSizeUnits="MM" '
        'bufferColor="255,255,255,255" bufferOpacity="0.85" bufferJoinStyle="128"/>'
        "</text-style>"
        f'<text-format multilineAlign="1" autoWrapLength="{WARD_LABEL_WRAP}" '
        'useMaxLineLengthForAutoWrap="1" wrapChar=""/>'
        '<placement placement="0" centroidInside="1" centroidWhole="0" dist="0" '
        'distUnits="MM" quadOffset="4" polygonPlacementFlags="2" fitInPolygonOnly="0" '
        'priority="8" offsetType="0"/>'
        '<rendering displayAll="0" obstacle="1" obstacleType="1" obstacleFactor="1" '
        'drawLabels="1" labelPerPart="0" limitNumLabels="0" maxNumLabels="2000" '
        'scaleVisibility="0" upsidedownLabels="0" mergeLines="0" minFeatureSize="0" '
        'zIndex="0" unplacedVisibility="0"/>'
        "</settings></labeling>"
    )
    tip = (f"{_tip_field(name_field)}: mostly segment {_tip_field(field)} – "
           f"{_tip_field('dominant_segment_name')}")
    # white ward boundaries wide enough to part neighbours with the same dominant segment
    return _qml(_categories_xml(segments, field, "fill", False, outline_mm=0.5), name_field,
                tip, labeling)


# Paul Tol's "YlOrBr" sequential scheme (colour-blind safe), five steps for rates
SEQUENTIAL = ("#FFFBD5", "#FEE391", "#FB9A29", "#CC4C02", "#662506")
ZERO_COLOUR = "#E4E4E4"  # "none": a light grey, apart from the yellow-brown scale
ZERO_LABEL = "0 – no incidents"
# the legend heading's range: matches no value (rates and counts are never negative)
HEADING_RANGE = (-2.0, -1.0)


def graduated_qml(field: str, breaks: list[float], display_field: str,
                  heading: str = "", zero_class: bool = False, tip: str | None = None,
                  decimals: int = 1, fields: dict | None = None) -> str:
    """A graduated renderer: ``len(breaks) - 1`` classes from the sequential palette.

    ``zero_class``: exactly 0 gets a class of its own, "0 – no incidents", before the others
    (``breaks`` then classify the non-zero values; QGIS takes the first class that holds a
    value). ``heading``: a first legend entry with no symbol that gives the unit (e.g.
    "fires per 1,000 households, Jan 2009 – Aug 2024"); it matches no feature.
    ``tip``: the map tip (by default the display field and the value); ``fields``: the
    fields' names in words and decimals (``fields_xml``)."""
    ranges, symbols = [], []
    n = len(breaks) - 1
    colours = SEQUENTIAL if n == len(SEQUENTIAL) else SEQUENTIAL[-n:]

    def add(low, high, label, colour, kind="fill"):
        i = len(ranges)
        ranges.append(f'<range render="true" symbol="{i}" lower="{low:.6f}" '
                      f'upper="{high:.6f}" label={quoteattr(as_written(label))}/>')
        symbols.append(_symbol(i, colour, kind))

    if heading:
        add(*HEADING_RANGE, heading, "#FFFFFF", "none")
    if zero_class:
        add(0.0, 0.0, ZERO_LABEL, ZERO_COLOUR)
    for i, (low, high) in enumerate(zip(breaks[:-1], breaks[1:])):
        add(low, high, f"{low:,.{decimals}f} – {high:,.{decimals}f}", colours[i])
    renderer = (f'<renderer-v2 type="graduatedSymbol" attr={quoteattr(field)} '
                'graduatedMethod="GraduatedColor" symbollevels="0" enableorderby="0" '
                f'forceraster="0"><ranges>{"".join(ranges)}</ranges>'
                f'<symbols>{"".join(symbols)}</symbols>'
                '<mode name="quantile"/></renderer-v2>')
    if tip is None:
        tip = f"{_tip_field(display_field)}: {_tip_field(field)}"
    return _qml(renderer, display_field, tip, fields_xml(fields) if fields else "")


# --- which way the segment numbers run, in words (charts, legends, notes, abstracts) ---

def numbered_by_deprivation(manifest: dict | None) -> bool:
    """Whether the segments are numbered by a deprivation measure the project named (only
    then may anything say "least" or "most deprived")."""
    manifest = manifest or {}
    numbering = manifest.get("numbering", {})
    if "by_deprivation" in numbering:
        return bool(numbering["by_deprivation"])
    return bool(manifest.get("parameters", {}).get("deprivation"))


def numbering_axis(manifest: dict | None) -> str:
    """The segment axis of a chart: "segment (1 = least deprived)" only when a deprivation
    measure numbers them, else what the numbering means (or just "segment")."""
    numbering = (manifest or {}).get("numbering", {})
    if numbering.get("axis"):
        return numbering["axis"]
    return "segment (1 = least deprived)" if numbered_by_deprivation(manifest) else "segment"


def numbering_title(manifest: dict | None) -> str:
    """The title of a legend of segments."""
    return ("Segment (1 = least deprived)" if numbered_by_deprivation(manifest)
            else "Segment")


def numbering_order(manifest: dict | None, numbers) -> str:
    """"Segment 1 is the least deprived and 10 the most deprived." when a deprivation
    measure numbers them; "" otherwise (the manifest's numbering description says what the
    numbers mean then); for areas assigned to segments built before, that description (the
    numbers as given when built)."""
    numbers = sorted(numbers)
    if not numbers or not numbered_by_deprivation(manifest):
        return ""
    if (manifest or {}).get("assigned"):  # numbered when built: said so (``assign``)
        return str(manifest.get("numbering", {}).get("description", ""))
    return f"Segment {numbers[0]} is the least deprived and {numbers[-1]} the most deprived."


# --- the words that go with each layer (stored as its abstract) ---

def segment_layer_abstract(segments: dict[int, str], study: str = "",
                           deprivation: str | None = None, more_deprived: str = "lower",
                           deprivation_label: str | None = None,
                           numbering_description: str | None = None,
                           assigned: str | None = None) -> str:
    """What the segment layer shows, and which way the numbering runs; ``assigned``: the
    line on areas assigned to segments built before (``notes.assigned_note``), whose
    numbering is then said as kept (``numbering_description``)."""
    k = len(segments)
    lines = [f"{study + ': ' if study else ''}output areas grouped into {k} segments "
             "(k-means on the standardised area variables)."]
    if k:
        first, last = min(segments), max(segments)
        order = (f"Segment {first} = least deprived, segment {last} = most deprived")
        if assigned and numbering_description:  # numbered when built, said as kept
            order = numbering_description.rstrip(".")
        elif not deprivation:  # numbered by the first principal component (the manifest)
            order = (numbering_description.rstrip(".") if numbering_description else
                     f"Segments are numbered {first} to {last} by the first principal "
                     "component of the clustering variables; the numbers do not rank "
                     "deprivation")
        else:
            measure = deprivation if not deprivation_label or deprivation_label == deprivation \
                else f"{deprivation_label} ({deprivation})"
            direction = "lower" if more_deprived == "lower" else "higher"
            order += (f", ranked by the mean {measure} of each segment's areas ({direction} "
                      "= more deprived)")
        lines.append(order + ".")
        if assigned:
            lines.append(assigned + ".")
        lines.append("Segments: " + "; ".join(legend_label(n, name)
                                              for n, name in sorted(segments.items())) + ".")
    return as_written("\n".join(lines))


def address_layer_abstract(study: str = "", manifest: dict | None = None) -> str:
    order = " (segment 1 = least deprived)" if numbered_by_deprivation(manifest) else ""
    return as_written(f"{study + ': ' if study else ''}address points from the gazetteer, "
                      f"coloured by the segment of the output area they fall in{order}.")


def ward_layer_abstract(weight: str) -> str:
    basis = "households" if weight == "households" else weight
    return as_written("Wards coloured and labelled by their dominant segment: the segment "
                      f"that holds most of the ward's {basis} (ties go to the lower segment "
                      "number). dominant_share_pct is that segment's share of the ward.")


def incident_layer_abstract(unit: str, what: str, located: int, rate_field: str) -> str:
    per = "rate" if rate_field.startswith("rate") else "count"
    return as_written(
        f"Output areas shaded by their {per} of {unit}. {what[:1].upper() + what[1:]}: "
        f"{located:,} in the study area. Areas with none form their own class "
        "(\"0 – no incidents\"); "
        "the others are split into five classes with equal numbers of areas (quantiles). "
        "segment_index is the area's segment's index of over/under-representation "
        "(100 = as many as its households would suggest).")


def template_text(text: str) -> str:
    """``text`` for a QGIS template (map tip, layout label, legend entry) exactly as
    written: QGIS evaluates ``[% ... %]`` in templates, so every ``%`` is given as the
    expression ``char(37)`` and no ``[%`` is left in it (``[% env('X') %]`` in a name is
    printed, never evaluated; a lone ``%]`` cannot close anything)."""
    return str(text).replace("%", "[% char(37) %]")


# U+2060 WORD JOINER: invisible, joins "[" to "%" so that QGIS never sees an expression
JOINER = "\u2060"


def as_written(text: str) -> str:
    """Text stored where QGIS may evaluate it (a legend entry in a style, a layer's abstract
    that a user pastes into a layout label), shown as written and never evaluated, however
    many times QGIS evaluates it. QGIS evaluates only what follows ``[%``, and a print
    layout's legend may evaluate an entry twice (once in its model when the layer's name or
    label expression calls for it, again when it draws), so ``template_text``'s ``%`` as
    ``[% char(37) %]``, right after one evaluation, would be evaluated the second time.
    Instead every ``[%`` gets an invisible word joiner between its two characters: it
    prints as ``[%`` and is never an expression (nor is a lone ``%]``, with no ``[%``
    before it). Text without ``[%`` is stored unchanged."""
    return str(text).replace("[%", f"[{JOINER}%")


def plain_text(stored: str) -> str:
    """The text ``as_written`` was given, from what it returned."""
    return str(stored).replace(f"[{JOINER}%", "[%")


def tip_text(text: str) -> str:
    """User text (a category, a period) written into a map tip: HTML-escaped (map tips
    are HTML) and kept from being evaluated (``template_text``)."""
    escaped = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return template_text(escaped)


def _tip_field(name: str) -> str:
    """A field's value in a map tip, as text: map tips are HTML, so ``&``, ``<`` and ``>``
    in a name are escaped (a segment or ward named ``<img src=x onerror=...>`` shows as
    written instead of running); the value itself is data, never evaluated again."""
    value = f"coalesce(to_string({_quote_field(name)}), '')"
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        value = f"replace({value}, '{raw}', '{escaped}')"
    return f"[% {value} %]"


def _quote_field(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
