"""The Processing dialogs as a user reads them: parameters in the order of the work, the
advanced ones folded away, a help text for each, and the toolbox groups in workflow order."""

from __future__ import annotations

from html import escape

from qgis.core import QgsProcessingDestinationParameter, QgsProcessingParameterDefinition

from community_safety.qgis_plugin.processing.provider import ALGORITHMS

ADVANCED = QgsProcessingParameterDefinition.FlagAdvanced
WORKFLOW = {
    "buildfromproject": 1, "buildsegmentation": 1, "choosesegments": 1, "assignareas": 1,
    "joingazetteer": 2, "profileincidents": 2, "targetvisits": 3, "modelbacktest": 3,
    "serviceusers": 3,
    "wardmatrices": 4, "exportmatrices": 4, "writereport": 4, "wardatlas": 4,
}
INPUTS = {"PROJECT", "AREAS", "SEGMENTATION"}


def test_project_file_algorithm_is_first(provider):
    assert ALGORITHMS[0].NAME == "buildfromproject"
    assert provider.algorithm("buildfromproject").displayName() == \
        "Build segmentation from a project file"


def test_every_parameter_has_help_shown_in_the_algorithm_help(provider):
    for algorithm in provider.algorithms():
        text = algorithm.shortHelpString()
        assert text.startswith("<p>") and len(text) > 200, algorithm.name()
        for parameter in algorithm.parameterDefinitions():
            where = f"{algorithm.name()}: {parameter.name()}"
            assert parameter.help().strip(), where
            line = (f"<b>{escape(parameter.description(), quote=False)}</b>: "
                    f"{escape(parameter.help(), quote=False)}")
            assert text.count(line) == 1, where  # one line per parameter, from one place
            assert parameter.help() in parameter.toolTip(), where  # the dialog's tooltip


def test_parameters_in_the_order_a_user_thinks(provider):
    for algorithm in provider.algorithms():
        parameters = algorithm.parameterDefinitions()
        assert parameters[0].name() in INPUTS, algorithm.name()
        kinds = []  # 0 inputs and choices, 1 advanced, 2 outputs
        for parameter in parameters:
            if isinstance(parameter, QgsProcessingDestinationParameter):
                kinds.append(2)
            else:
                kinds.append(1 if parameter.flags() & ADVANCED else 0)
        assert kinds == sorted(kinds), (algorithm.name(), [p.name() for p in parameters])
        names = [p.name() for p in parameters]
        if "K" in names:  # k comes right after the inputs and choices
            assert kinds[names.index("K")] == 0 and kinds[names.index("K") + 1] != 0, names


ADVANCED_NAMES = {"SEED", "N_INIT", "THRESHOLD", "MISSING", "STANDARDISE", "SUBSEGMENTS",
                  "RULE", "PLOTS"}
# targeting: the window of past visits and the filters are details most runs leave alone
ADVANCED_NAMES_BY_ALGORITHM = {"serviceusers": {"SCALE_TOP", "SCALING"},
                               "targetvisits": {"VISITED_MONTHS", "WARDS", "SEGMENTS",
                                                "TODAY", "PROPERTY", "LOOKUP"},
                               # the model's settings (the backtest validates its own)
                               # and ranking postcodes rather than areas
                               "modelbacktest": {"PROJECT", "POSTCODE_POINTS"}}


def test_seed_starts_and_method_settings_are_advanced(provider):
    for algorithm in provider.algorithms():
        for parameter in algorithm.parameterDefinitions():
            # the partners' suppression threshold is no detail: it stays in view
            advanced = ADVANCED_NAMES | ADVANCED_NAMES_BY_ALGORITHM.get(algorithm.name(), set())
            expected = parameter.name() in advanced and algorithm.name() not in (
                "exportmatrices", "writereport", "wardatlas")
            assert bool(parameter.flags() & ADVANCED) == expected, \
                f"{algorithm.name()}: {parameter.name()}"
    for name in ("buildfromproject", "buildsegmentation", "choosesegments"):
        definitions = provider.algorithm(name)
        assert definitions.parameterDefinition("SEED").flags() & ADVANCED
        assert definitions.parameterDefinition("N_INIT").flags() & ADVANCED


def test_groups_sort_in_workflow_order(provider):
    algorithms = {a.name(): a for a in provider.algorithms()}
    assert set(algorithms) == set(WORKFLOW)
    by_step = {}
    for name, step in WORKFLOW.items():
        algorithm = algorithms[name]
        by_step.setdefault(step, set()).add((algorithm.groupId(), algorithm.group()))
    assert all(len(groups) == 1 for groups in by_step.values()), by_step
    ids = [next(iter(by_step[step]))[0] for step in sorted(by_step)]
    names = [next(iter(by_step[step]))[1] for step in sorted(by_step)]
    assert ids == sorted(ids) and names == sorted(names) and len(set(ids)) == 4
    assert all(i == i.lower() and " " not in i for i in ids)
    assert names[0] == "1 Build the segmentation"
