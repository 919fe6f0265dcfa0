"""Demand: the most frequent service users across agencies, pseudonymised, ranked and
shared as counts.

- ``steps``: the whole step (``demand_step``; ``demand_job`` as the command line,
  Processing and the dock run it) and what a run says;
- ``project``: the project's ``[demand]`` section (sources, filters, areas, harm weights);
- ``totals``: the names of the totals and metrics, the kinds of source, the scalings;
- ``ingest``: a source read: the window, counts and hours per person, calls with their
  resources' hours, theme matches;
- ``columns``: a source's columns read fast, each distinct cell once;
- ``identities``: people linked on IDs (or names and date of birth) and pseudonymised;
- ``reconciliation``: the status of every input record, and the tables that account for them;
- ``ranking``: totals, scaling, metrics, ranks, home areas and harm; who is listed;
- ``context``: each output area's segment, ward and residents, and the harm weights;
- ``home_places``: the study's areas home areas are checked against, home postcodes placed
  in their output areas, and the label a home area elsewhere is kept as (never its value);
- ``shared_view``: the shared-demand view for partners, suppressed;
- ``output``: the tables people read, the result of a run and the files written.

The method (a police force's frequent-service-user tool), as implemented here
-------------------------------------------------------------------------------
- **Window**: records dated on or after ``run date - months`` (12 by default) and before
  the run date (the run date itself is outside). A call counts by its own date; its
  resource times only measure it. The date is read first: a record without a readable
  date, or outside the window, gets that status whatever else is wrong with it, and only
  the records in the window are read further (their IDs, roles, areas...).
- **Nine totals per person**: (1) times a suspect, (2) times an offender, (3) times a
  victim, (4) custody episodes, (5) custody hours: each episode's duration clipped to
  0..200 (above 200 set to 200, negative set to 0), then summed; (6) calls as caller,
  (7) resource hours as caller, (8) calls as subject, (9) resource hours as subject. A call
  counts once per person and role however often the person is listed on it. The resource
  hours of an incident are the sum, over every resource sent, of released - the earliest
  of assigned / deployed / arrived; a resource row whose times cannot be read (or whose
  release comes before its start) adds nothing and is listed. Incidents marked as
  pre-planned events or operations are left out with all their rows. Partner sources add
  to these totals or to new totals declared in the project (``[demand.totals]``).
- **Scaling**: each total is divided by the mean of its largest ``scale_top`` (1,000)
  values over everyone (all values when there are fewer people), then scaled to 0..1:
  ``max`` (default) divides the ratios by the largest (the largest becomes 1, 0 stays 0:
  min-max scaling, as someone always has 0 when there are many people; note that this
  makes the scaled value the total over the largest total, whatever the top mean);
  ``cap`` keeps the ratio and sets ratios above 1 to 1 (everyone at or above the top
  users' mean counts fully, so one extreme person cannot flatten everyone else). A total
  nobody has scores 0.
- **Metrics**: the scaled totals summed with equal weight: investigations and custody
  (1-5), originator (6-7), subject (8-9), overall (every total in a metric; the nine by
  default).
- **Ranks**: out of everyone with a used record in the window, on every metric, highest
  first; tied people share the best rank of their group (1, 2, 2, 4: "min" ranks). A
  score of 0 on a metric is shown as no rank (blank), not a tie of everyone without a
  record counted toward it; a metric no one scores on ranks no one, said in the notes.
  Lists are ordered by rank, then by pseudonym (a fixed, arbitrary tie-break that depends
  on the key only).
- **The list**: on each metric the people ranked ``top`` (100) or better with a score above
  0 (so ties at the boundary are all kept), de-duplicated: 100 to 400 people as a rule.
- **Filters** (area, theme from keywords in flag or text columns, a total above 0 such as
  missing-person reports in the window, priority crime types): the people who match, and
  of them the ``top`` best placed on each metric, de-duplicated; ranks stay those out of
  everyone (a filter never re-ranks).
- **Context columns**, not in the ranking: harm caused (the sum of a crime-harm weight per
  offence as suspect or offender, from a weight table the user supplies, e.g. the
  Cambridge Crime Harm Index) and harm received (as victim); the home area, the most
  common output area on the person's records in the window (a tie goes to the area of the
  most recent record among those tied, then to the lowest code), with its ward and
  segment.

Personal data
-------------
People are linked across sources on their IDs; the people of a source without IDs (linked
on names and date of birth) join the person of an ID where a source with IDs also gives
names and a date of birth (``names`` and ``dob`` with its ``id``) and those of exactly one
ID match (``identities.linked_by_name``; two IDs are never merged). Only pseudonyms of the
names and dates of birth are kept for this. Person IDs (or names and date of birth, where a
source links on those) become a keyed
hash (HMAC-SHA-256, ``data.pseudonyms.pseudonymise``) as each source is read: only the distinct
identities are hashed, and nothing else of a record is kept but its date, its counts and
hours, its offence, its home area (one of the study's output areas, a postcode placed in
one, or else an opaque label: a postcode or other value is never kept) and whether it
matches a theme. Names, dates of birth,
phone numbers and addresses never go past ingest, so no output can hold them. The key is
the user's, kept outside the project (a key file or ``$COMMUNITY_SAFETY_KEY``); without it
nothing runs. The same key gives the same pseudonyms in every run and agency.

The shared-demand view
----------------------
Demand by segment and by ward of the home area (people, contacts, the totals, the contacts
of the people in the top 1% and 5% of everyone on the overall metric). Both views of a run
are suppressed together (``suppress_views``, with ``share.suppression.suppress_tables``) against a
reader who knows every identity between the published figures: each column adds up to its
total, contacts are the sum of the counted totals in every row, both views count the same
people, and the top 1% are among the top 5%, who are among everyone. Every figure of a row
(the Total too) of 1 to ``threshold`` people, and the contacts of 1 to ``threshold`` top
people, are those few people's own and are hidden and protected as small counts are. Every
ward and segment of the study area is a row (0 where no one lives), residents counted over
the areas with a ward and a segment, so the views' Totals agree. Rates per 1,000
residents and shares are computed from the published counts only.
"""

from ..public import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "steps": "demand_step demand_job",
    "output": "write_demand",
    "project": "load_demand_project",
})
