"""Reading messy partner tables and boundaries: every row accounted for, clear refusals."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DIR

from community_safety.core.data.ingest import (
    match_table,
    parse_numbers,
    read_boundaries,
    read_table,
)
from community_safety.core.errors import InputError

AREAS = pd.Index(["E00000001", "E00000002", "E00000003"])


def write(tmp_path, name: str, content: bytes) -> object:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def statuses(rows: pd.DataFrame) -> dict:
    return rows.set_index("row")["status"].to_dict()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings_are_read(tmp_path, encoding):
    text = "code,name,pct\r\nE00000001,Café Row,12.5\r\nE00000002,Brontë Close,7\r\n"
    table = read_table(write(tmp_path, "t.csv", text.encode(encoding)), "code")
    assert table.values["pct"].tolist() == [12.5, 7.0]
    assert "name" in table.skipped_columns  # text column: not a variable, and said why


def test_semicolons_decimal_commas_thousands_and_percent_signs(tmp_path):
    content = 'code;count;share\nE00000001;"1.234";"12,5%"\nE00000002;2 345;7,25 %\n'
    table = read_table(write(tmp_path, "t.csv", content.encode()), "code")
    assert table.values.loc["E00000002", "share"] == 7.25
    assert table.values.loc["E00000001", "share"] == 12.5
    content = 'code,count\nE00000001,"1,234"\nE00000002,"12,345,678.5"\n'
    table = read_table(write(tmp_path, "u.csv", content.encode()), "code")
    assert table.values["count"].tolist() == [1234.0, 12345678.5]


def test_suppressed_cells_are_missing_and_counted(tmp_path):
    content = ("code,v\nE00000001,*\nE00000002,-\nE00000003,..\nE00000004,c\nE00000005,\n"
               "E00000006,3\n")
    table = read_table(write(tmp_path, "t.csv", content.encode()), "code")
    assert table.values["v"].isna().sum() == 5 and table.values["v"].iloc[-1] == 3
    assert table.suppressed_cells == {"v": 5}


def test_stray_quote_does_not_swallow_the_rest_of_the_file(tmp_path):
    content = 'code,v\nE00000001,"12\nE00000002,3\nE00000003,4\n'
    table = read_table(write(tmp_path, "t.csv", content.encode()), "code")
    assert table.values["v"].tolist() == [12.0, 3.0, 4.0]
    assert (table.rows["status"] == "used").all()


def test_every_row_is_accounted_for(tmp_path):
    content = (
        "code,v\n"
        "E00000001,1\n"      # 2 used
        ",2\n"               # 3 unreadable: no code
        "E00000002,3,9\n"    # 4 unreadable: too many fields
        "E00000001,1\n"      # 5 duplicate of row 2
        "E00999999,5\n"      # 6 outside the area: an OA code, not ours
        "W99,6\n"            # 7 unmatched: not an OA code at all
        "\n"                 # 8 unreadable: blank line
        "e00000003 ,7\n"     # 9 used: case and spaces cleaned
    )
    table = read_table(write(tmp_path, "t.csv", content.encode()), "code")
    values, rows = match_table(table, AREAS)
    by_row = statuses(rows[rows["row"].notna()])
    assert by_row == {2: "used", 3: "unreadable", 4: "unreadable", 5: "duplicate",
                      6: "outside the area", 7: "unmatched", 8: "unreadable", 9: "used"}
    assert len(by_row) == content.count("\n") - 1  # one status per data line
    no_data = rows[rows["status"] == "no data"]["area_code"].tolist()
    assert no_data == ["E00000002"]  # in the boundaries, not (readably) in the table
    assert values.loc["E00000003", "v"] == 7 and np.isnan(values.loc["E00000002", "v"])


def test_conflicting_duplicate_codes_are_refused_naming_them(tmp_path):
    content = "code,v\nE00000001,1\nE00000002,2\nE00000001,5\n"
    with pytest.raises(InputError, match=r"t.csv: .*E00000001 \(rows 2, 4\)"):
        read_table(write(tmp_path, "t.csv", content.encode()), "code")


def test_named_variable_with_text_names_file_row_and_column(tmp_path):
    content = "code,v\nE00000001,1\nE00000002,lots\n"
    with pytest.raises(InputError, match=r"t.csv, row 3, column 'v': 'lots' is not a number"):
        read_table(write(tmp_path, "t.csv", content.encode()), "code", columns=["v"])


@pytest.mark.parametrize(
    "content, message",
    [(b"", "the file is empty"), (b"id,v\nE00000001,1\n", "no column 'code'")],
)
def test_empty_file_and_missing_code_column(tmp_path, content, message):
    with pytest.raises(InputError, match=message):
        read_table(write(tmp_path, "t.csv", content), "code")


def test_xlsx_tables_are_read(tmp_path):
    path = tmp_path / "t.xlsx"
    pd.DataFrame({"code": ["E00000001", "E00000002"], "v": ["1,234", "*"]}).to_excel(
        path, index=False)
    table = read_table(path, "code")
    assert table.values["v"].iloc[0] == 1234 and np.isnan(table.values["v"].iloc[1])


def test_a_file_over_a_million_rows(tmp_path):
    n = 1_100_000
    codes = np.char.add("E0", np.char.zfill(np.arange(n).astype(str), 7))
    frame = pd.DataFrame({"code": codes, "v": np.arange(n) % 97})
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    table = read_table(path, "code")
    assert len(table.values) == n and len(table.rows) == n
    values, rows = match_table(table, pd.Index(codes[:749]))
    assert (rows["status"] == "used").sum() == 749
    # E00xxxxxx codes are output areas outside the study area; from 1,000,000 up the codes
    # read E01..., another kind of area: unmatched
    assert (rows["status"] == "outside the area").sum() == 1_000_000 - 749
    assert (rows["status"] == "unmatched").sum() == n - 1_000_000


def test_parse_numbers_marks_unreadable_cells():
    values, suppressed, unreadable = parse_numbers(pd.Series(["1", "*", "abc", " 4 % "]))
    assert values.iloc[3] == 4 and suppressed.tolist() == [False, True, False, False]
    assert unreadable.tolist() == [False, False, True, False]


def test_boundaries_in_another_crs_are_reprojected(tmp_path):
    oa = gpd.read_file(SAMPLE_DIR / "output_areas_2011.gpkg").head(20).to_crs(4326)
    oa.to_file(tmp_path / "wgs84.gpkg", driver="GPKG")
    areas, rows = read_boundaries(tmp_path / "wgs84.gpkg", "OA11CD")
    assert areas.crs.to_epsg() == 27700 and len(areas) == 20
    assert 520_000 < areas.total_bounds[0] < 535_000
    assert (rows["status"] == "used").all()


def test_metres_labelled_as_degrees_are_refused(tmp_path):
    oa = gpd.read_file(SAMPLE_DIR / "output_areas_2011.gpkg").head(5)
    oa.set_crs(4326, allow_override=True).to_file(tmp_path / "wrong.gpkg", driver="GPKG")
    with pytest.raises(InputError, match=r"wrong.gpkg: coordinates such as .* cannot be "
                                         r"longitude/latitude in degrees"):
        read_boundaries(tmp_path / "wrong.gpkg", "OA11CD")


def test_duplicate_boundary_codes_are_refused(tmp_path):
    oa = gpd.read_file(SAMPLE_DIR / "output_areas_2011.gpkg").head(5)
    pd.concat([oa, oa.head(1)]).to_file(tmp_path / "dup.gpkg", driver="GPKG")
    with pytest.raises(InputError, match="more than once.*" + oa["OA11CD"].iloc[0]):
        read_boundaries(tmp_path / "dup.gpkg", "OA11CD")


@pytest.mark.parametrize("bad", ["abc", "inf", "1e309", "n.k."])
def test_a_few_bad_cells_become_missing_and_are_named_not_the_whole_column(tmp_path, bad):
    lines = [f"E0000000{i},{i}.5,{i}" for i in range(1, 8)]
    lines[2] = f"E00000003,{bad},3"
    table = read_table(write(tmp_path, "t.csv", ("code,v,w\n" + "\n".join(lines)).encode()),
                       "code", columns=["v", "w"])
    assert list(table.values.columns) == ["v", "w"]  # the variable is kept
    assert np.isnan(table.values.loc["E00000003", "v"])
    assert table.values.loc["E00000004", "v"] == 4.5
    assert table.bad_cells == {"v": 1}
    row = table.rows.set_index("row").loc[4]
    assert row["status"] == "used"
    assert row["detail"] == f"column 'v': '{bad}' is not a number (left missing)"


def test_a_text_column_is_not_a_variable_and_says_which_rows(tmp_path):
    content = "code,ward,v\nE00000001,Camden Town,1\nE00000002,Holborn,2\nE00000003,3,3\n"
    table = read_table(write(tmp_path, "t.csv", content.encode()), "code")
    assert "ward" not in table.values.columns
    assert table.skipped_columns["ward"] == ("not numeric (row 2: 'Camden Town', "
                                             "row 3: 'Holborn')")


def test_decimal_comma_with_dotted_thousands_in_a_semicolon_file(tmp_path):
    content = "code;v\nE00000001;1.234,5\nE00000002;12,5\nE00000003;7\n"
    table = read_table(write(tmp_path, "t.csv", content.encode()), "code")
    assert table.values["v"].tolist() == [1234.5, 12.5, 7.0]


def test_a_row_with_too_few_fields_is_unreadable_not_filled(tmp_path):
    content = "code,v,w\nE00000001,1,2\nE00000002,3\nE00000003,5,6\n"
    table = read_table(write(tmp_path, "t.csv", content.encode()), "code")
    assert table.values.index.tolist() == ["E00000001", "E00000003"]
    by_row = table.rows.set_index("row")
    assert by_row.loc[3, "status"] == "unreadable"
    assert by_row.loc[3, "detail"] == "Expected 3 fields in line 3, saw 2"
    assert by_row.loc[4, "status"] == "used"


def test_plain_number_columns_read_as_numbers_keep_codes_values_and_bad_cells_as_written(
        tmp_path):
    """Columns of plain numbers are read as numbers directly (a national table's millions
    of cells are never held as text): the values are those of the text, area codes that look
    like numbers keep their zeros, and cells that are not plain numbers are still named as
    written."""
    v = ["0.1", "2.675", "1e-7", "123456789.123456789", "-0.0", " 12 ", "7"]
    lines = [f"00{i},{value},{'True' if i % 2 else 'FALSE'},{i}.25"
             for i, value in enumerate(v, start=1)]
    lines[3] = lines[3].rsplit(",", 1)[0] + ",Infinity"
    table = read_table(write(tmp_path, "t.csv", ("code,v,flag,w\n" + "\n".join(lines)).encode()),
                       "code")
    assert table.values.index.tolist() == [f"00{i}" for i in range(1, 8)]
    from_text = parse_numbers(pd.Series(v, dtype=object))[0]  # as read before, all text
    assert table.values["v"].tolist() == from_text.tolist()
    assert table.values["v"].tolist() == pytest.approx([float(value) for value in v], rel=1e-15)
    assert table.values.dtypes.tolist() == [np.float64, np.float64]
    assert table.skipped_columns["flag"] == ("not numeric (row 2: 'True', row 3: 'FALSE', "
                                             "row 4: 'True')")
    assert table.bad_cells == {"w": 1}
    assert table.rows.set_index("row").loc[5, "detail"] == (
        "column 'w': 'Infinity' is not a number (left missing)")


def test_a_long_table_names_cells_as_written_whatever_row_they_are_in(tmp_path):
    """pandas' parser judges a long file's columns a block of rows at a time: a column of
    numbers with a bad cell far down (or of TRUE/FALSE with a word far down) must still be
    cleaned as text, its cells named as written."""
    n = 40_000
    v0 = ["1.5"] * n
    v0[1], v0[n - 999] = "Inf", "*"
    v2 = ["TRUE" if i % 2 else "FALSE" for i in range(n)]
    v2[n - 999] = "unknown"
    v1 = ["2"] * n
    v1[n - 5] = "*"
    body = "\n".join(f"E{i:08d},{a},{b},{c}" + ",7" * 16
                     for i, (a, b, c) in enumerate(zip(v0, v1, v2)))
    header = "code,v0,v1,v2," + ",".join(f"w{j}" for j in range(16))
    table = read_table(write(tmp_path, "long.csv", f"{header}\n{body}\n".encode()), "code")
    assert table.rows.set_index("row").loc[3, "detail"] == (
        "column 'v0': 'Inf' is not a number (left missing)")
    assert table.skipped_columns["v2"].startswith("not numeric (row 2: 'FALSE', row 3: 'TRUE'")
    assert table.suppressed_cells["v0"] == 1 and table.suppressed_cells["v1"] == 1


def test_a_short_line_dropped_does_not_change_how_the_other_lines_read(tmp_path):
    content = "code,v,w\nE1,-0,1\nE2,4,1\nE3,0.5\n"
    table = read_table(write(tmp_path, "t.csv", content.encode()), "code")
    assert table.values.index.tolist() == ["E1", "E2"]
    assert [str(v) for v in table.values["v"]] == ["0.0", "4.0"]  # as from the text "-0", "4"
    assert table.rows.set_index("row").loc[4, "status"] == "unreadable"
