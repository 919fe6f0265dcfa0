"""The vocabulary segment names and pen portraits are made of: the themes, the parts of a
name, and the words for the usual census variables.

``VOCABULARY`` maps variables, by their labels (the descriptions in the labels file), to
a theme and to words; it holds the sample's variables (its ``variables.csv`` themes) and
the usual census descriptions. A variable it does not know gets its theme from keywords in
its label and words made from the label itself, never from a column code (see ``words``).
"""

from __future__ import annotations

from dataclasses import dataclass

AGE_HOUSEHOLD = "age and household"
HOUSING = "housing and tenure"
WORK = "work, income and benefits"
HEALTH = "health and care"
ETHNICITY = "ethnicity and language"
OTHER = "other"
THEMES = (AGE_HOUSEHOLD, HOUSING, WORK, HEALTH, ETHNICITY, OTHER)

# name parts, in the order a name reads
TRAIT, WHO, HOUSING_PART, NEED = "trait", "who", "housing", "need"
PART_OF_THEME = {AGE_HOUSEHOLD: WHO, HOUSING: HOUSING_PART, WORK: NEED, HEALTH: NEED,
                 ETHNICITY: NEED, OTHER: NEED}


@dataclass(frozen=True)
class Term:
    """Words for the variables whose label matches ``pattern`` (case-insensitive).

    ``high``/``low``: (preposition, words) a name uses when the segment is high/low on the
    variable (None: the name never says it). ``population`` and ``says`` make a portrait
    sentence: "<how many> <population> <says> (48%, against 31% ...)"; without them the
    sentence quotes the label. ``part`` overrides the name part the theme gives.
    ``fewer``: for a name's *who* (or trait) words, (who, what) a name says instead where
    under half of the segment is so ("People living alone" of a segment where 36% of
    households are one person: ("People", "living alone"), "People more often living
    alone"; ``descriptors.MOST``).
    """

    theme: str
    pattern: str
    high: tuple | None = None
    low: tuple | None = None
    population: str | None = None
    says: str | None = None
    part: str | None = None
    fewer: tuple | None = None


T = Term
WORKING_AGE = "residents aged 16 to 74"  # the 2011 census's economic activity (KS601)
ABOVE_3 = "residents aged 3 and over"  # whom proficiency in English is asked of
LARGE = ("Residents", "in large households")  # under half of households large: said so
BEDROOMS = r"occupancy rating (?:\(bedrooms\) of|of bedrooms:) "  # Census 2021's TS052 cells
# Order matters: the first term whose pattern matches a label is used.
VOCABULARY: tuple[Term, ...] = (
    # --- age and household
    T(AGE_HOUSEHOLD, r"one person household\w*:? (?:aged )?65 and over|pensioners? living alone",
      ("", "Single-pensioner households"), None, "households",
      "are people aged 65 or over living alone",
      fewer=("Households", "of one pensioner")),
    T(AGE_HOUSEHOLD, r"one person household\w*:? (?:under 65|other)\b",
      ("", "One-person households"), None, "households", "are people under 65 living alone",
      fewer=("Households", "of one person")),
    T(AGE_HOUSEHOLD, r"lone parent (?:households )?with dependent children|"
                     r"lone parent: dependent children",
      ("", "Lone parent families"), None, "households",
      "are lone parents with dependent children",
      fewer=("Households", "lone parent families")),
    T(AGE_HOUSEHOLD, r"households with dependent children|"
                     r"dependent children in household: all ages",
      ("", "Families with children"), ("", "Adults without children"), "households",
      "have dependent children", fewer=("Households", "with children")),
    T(AGE_HOUSEHOLD, r"households of full-time students|all full-time students",
      ("", "Student households"), None, "households",
      "are made up only of full-time students", fewer=("Households", "all students")),
    T(AGE_HOUSEHOLD, r"in full-time study", ("", "Students"), None, WORKING_AGE,
      "are in full-time study", fewer=("Residents", "students")),
    T(AGE_HOUSEHOLD, r"economically inactive: student", ("", "Students"), None,
      WORKING_AGE, "are students not in work or looking for work",
      fewer=("Residents", "students")),
    T(AGE_HOUSEHOLD, r"\bretired\b", ("", "Retired residents"), None,
      WORKING_AGE, "are retired", fewer=("Residents", "retired")),
    # ages: words made from the numbers in the label (see _age_term)
    # --- housing and tenure
    T(HOUSING, r"rented from (?:the )?council", ("living in", "council housing"),
      ("with", "little council housing"),
      "households", "rent their home from the council"),
    T(HOUSING, r"social rented: other", ("living in", "housing association homes"), None,
      "households", "rent their home from a housing association or other social landlord"),
    # Census 2021's "Social rented: Rents from council or Local Authority" is the council's
    # part alone (the rest is "Social rented: Other social rented"): before the generic term
    T(HOUSING, r"rents from council", ("living in", "council housing"),
      ("with", "little council housing"),
      "households", "rent their home from the council"),
    T(HOUSING, r"renting socially|social(?:ly)? rent", ("living in", "social housing"),
      ("with", "little social housing"),
      "households", "rent their home from a social landlord"),
    T(HOUSING, r"other social rented", ("living in", "housing association homes"), None,
      "households", "rent their home from a housing association or other social landlord"),
    T(HOUSING, r"renting privately|private(?:ly)? rent|private landlord",
      ("renting", "privately"), None,
      "households", "rent their home privately"),
    T(HOUSING, r"owned outright|owns outright", ("owning", "their homes outright"), None,
      "households", "own their home outright"),
    T(HOUSING, r"owned with a mortgage|owns with a mortgage", ("buying", "their homes"), None,
      "households",
      "are buying their home with a mortgage or loan"),
    T(HOUSING, r"owning their home|owner.occupied|^owned$|home owners?",
      ("owning", "their homes"), None, "households", "own their home"),
    T(HOUSING, r"converted or shared house", ("living in", "converted houses and bedsits"),
      None, "homes", "are flats in a converted or shared house, including bedsits"),
    T(HOUSING, r"purpose-built block", ("living in", "purpose-built flats"), None, "homes",
      "are in a purpose-built block of flats"),
    T(HOUSING, r"dwellings shared|shared dwelling", ("living in", "shared houses"), None,
      "dwellings", "are shared by two or more households"),
    T(HOUSING, r"occupancy rating \(rooms\) of -1", ("living in", "overcrowded homes"), None,
      "households", "have fewer rooms than they need"),
    # Census 2021's occupancy rating for bedrooms (TS052), each cell in words: two short is
    # said of the households ("Households more often overcrowded by two or more bedrooms")
    T(HOUSING, BEDROOMS + r"-2",
      ("", "Households overcrowded by two or more bedrooms"), None, "households",
      "have at least two bedrooms fewer than they need", WHO,
      fewer=("Households", "overcrowded by two or more bedrooms")),
    T(HOUSING, BEDROOMS + r"\+2",
      ("living in", "homes with two or more spare bedrooms"), None, "households",
      "have at least two bedrooms more than they need"),
    T(HOUSING, BEDROOMS + r"\+1 or more",
      ("living in", "homes with spare bedrooms"), None, "households",
      "have at least one bedroom more than they need"),
    T(HOUSING, BEDROOMS + r"\+1",
      ("living in", "homes with a spare bedroom"), None, "households",
      "have one bedroom more than they need"),
    T(HOUSING, BEDROOMS + r"0\b",
      ("living in", "homes with just enough bedrooms"), None, "households",
      "have as many bedrooms as they need"),
    T(HOUSING, BEDROOMS + r"-1|overcrowd",
      ("living in", "overcrowded homes"), None, "households",
      "have fewer bedrooms than they need"),
    T(HOUSING, r"without central heating|not have central heating|no central heating",
      ("living in", "homes without central heating"), None, "households",
      "have no central heating"),
    T(HOUSING, r"whole house or bungalow: detached", ("living in", "detached houses"), None,
      "homes", "are detached houses or bungalows"),
    T(HOUSING, r"whole house or bungalow: semi-detached", ("living in", "semi-detached houses"),
      None, "homes", "are semi-detached houses or bungalows"),
    T(HOUSING, r"whole house or bungalow: terraced", ("living in", "terraced houses"), None,
      "homes", "are terraced houses or bungalows"),
    # --- work, income and benefits
    T(WORK, r"no cars? or vans?|no car\b", ("without", "a car"), ("with", "cars"),
      "households", "have no car or van"),
    # each count of cars its own words: a share of households with exactly two is not the
    # share with two or more (Census 2021: "2 cars or vans", "3 or more cars or vans")
    T(WORK, r"\b2 or more cars? or vans?", ("with", "two or more cars"), None,
      "households", "have two or more cars or vans"),
    T(WORK, r"\b2 cars? or vans?", ("with", "two cars"), None, "households",
      "have two cars or vans"),
    T(WORK, r"\b3 or more cars? or vans?", ("with", "three or more cars"), None,
      "households", "have three or more cars or vans"),
    T(WORK, r"\b3 cars? or vans?", ("with", "three cars"), None, "households",
      "have three cars or vans"),
    T(WORK, r"\b4 or more cars? or vans?", ("with", "four or more cars"), None,
      "households", "have four or more cars or vans"),
    T(WORK, r"higher managerial", ("", "Professional"), None, "residents aged 16 and over",
      "are in higher managerial, administrative or professional work", TRAIT,
      fewer=("Residents", "in professional work")),
    T(WORK, r"lower managerial", ("in", "managerial work"), None,
      "residents aged 16 and over",
      "are in lower managerial, administrative or professional work"),
    # each NS-SEC class its own words: the share in routine work alone is not the share in
    # routine or semi-routine work (Census 2021 TS062 counts them apart)
    T(WORK, r"\bsemi-routine (and|or) routine|\broutine (and|or) semi-routine",
      ("in", "routine work"), None, "residents aged 16 and over",
      "are in routine or semi-routine work"),
    T(WORK, r"\bsemi-routine occupations", ("in", "semi-routine work"), None,
      "residents aged 16 and over", "are in semi-routine work"),
    T(WORK, r"(?<!semi-)\broutine occupations", ("in", "routine work"), None,
      "residents aged 16 and over", "are in routine work"),
    T(AGE_HOUSEHOLD, r"\bL15 full-time students|^full-time students$", ("", "Students"),
      None, "residents aged 16 and over", "are full-time students",
      fewer=("Residents", "students")),
    T(AGE_HOUSEHOLD, r"^1 person in household", ("", "One-person households"), None,
      "households", "are of one person", fewer=("Households", "of one person")),
    T(AGE_HOUSEHOLD, r"^2 people in household", ("", "Two-person households"), None,
      "households", "are of two people", fewer=("Households", "of two people")),
    T(AGE_HOUSEHOLD, r"^5 or more people in household", ("", "Large households"),
      ("", "Smaller households"), "households", "are of five or more people",
      fewer=LARGE),
    T(AGE_HOUSEHOLD, r"^8 or more people in household", ("", "Large households"),
      ("", "Smaller households"), "households", "are of eight or more people",
      fewer=LARGE),
    # one size of several (TS017: 3, 4, ... 8 or more): a name says the large ones only where
    # they are many (a low share of one size says little of the rest)
    *(T(AGE_HOUSEHOLD, rf"^{n} people in household", ("", "Large households") if n >= 5
        else None, None, "households", f"are of {word} people", fewer=LARGE)
      for n, word in ((3, "three"), (4, "four"), (5, "five"), (6, "six"), (7, "seven"))),
    T(HEALTH, r"^fair health$", ("in", "fair health"), None, "residents",
      "are in fair health"),
    # Census 2021's NS-SEC (TS062) counts both together, of all residents aged 16 and over
    T(WORK, r"never worked and long-term unemployed", ("with", "long-term unemployment"),
      None, "residents aged 16 and over",
      "have never worked or are long-term unemployed"),
    T(WORK, r"long-term unemployed", ("with", "long-term unemployment"), None,
      WORKING_AGE, "are long-term unemployed"),
    T(WORK, r"\bunemployed\b|\bunemployment\b", ("with", "high unemployment"), None,
      WORKING_AGE, "are unemployed"),
    T(WORK, r"long-term sick", ("with", "long-term sickness"), None,
      WORKING_AGE, "are out of work because of long-term sickness or disability"),
    T(WORK, r"no adults in employment", ("with", "many workless households")),
    # a share of residents without any: "without qualifications" where most are, "more
    # often without qualifications" where fewer are (never "few qualifications" of a
    # segment where a third have a degree)
    T(WORK, r"no qualifications", ("without", "qualifications"), None,
      "residents aged 16 and over", "have no qualifications"),
    T(WORK, r"level 4 qualifications", ("", "Highly qualified"), None,
      "residents aged 16 and over", "have a degree or equivalent, level 4 or above", TRAIT,
      fewer=("Residents", "highly qualified")),
    T(WORK, r"social grade ab\b", ("", "Professional"), None, "household heads aged 16 to 64",
      "are in managerial or professional work, social grade AB", TRAIT,
      fewer=("Residents", "in professional work")),
    T(WORK, r"social grade c1\b", None, None, "household heads aged 16 to 64",
      "are in supervisory, clerical or junior managerial work, social grade C1"),
    T(WORK, r"social grade c2\b", ("in", "skilled manual work"), None,
      "household heads aged 16 to 64", "are in skilled manual work, social grade C2"),
    T(WORK, r"social grade de\b", ("on", "low incomes"), None,
      "household heads aged 16 to 64",
      "are in semi-skilled or unskilled work, unemployed or on benefits: social grade DE"),
    T(WORK, r"benefit|universal credit|claimant|jobseeker|pension credit|income support|"
            r"free school meals", ("with", "high benefit need")),
    # --- health and care
    T(HEALTH, r"limited a lot", ("with", "many disabled residents"), None, "residents",
      "have day-to-day activities limited a lot by a health problem or disability"),
    T(HEALTH, r"limited a little", ("with", "long-term illness"), None, "residents",
      "have day-to-day activities limited a little by a health problem or disability"),
    T(HEALTH, r"bad or very bad health", ("in", "poor health"), ("in", "good health"),
      "residents", "are in bad or very bad health"),
    T(HEALTH, r"\bbad health\b", ("in", "poor health"), None),
    T(HEALTH, r"50 or more hours (?:of )?unpaid care", ("with", "many full-time carers"), None,
      "residents", "provide 50 or more hours of unpaid care a week"),
    T(HEALTH, r"providing any unpaid care", ("with", "many unpaid carers"), None, "residents",
      "provide unpaid care"),
    T(HEALTH, r"(?<!no )unpaid care", ("with", "many unpaid carers")),
    T(HEALTH, r"long-term health problem or disability", ("with", "disability at home"), None,
      "households", "include one person with a long-term health problem or disability"),
    # --- ethnicity and language
    # proficiency in English (2011 QS205EW, 2021 TS029), of residents aged 3 and over
    T(ETHNICITY, r"cannot speak english well", ("with", "limited English"), None, ABOVE_3,
      "cannot speak English well"),
    T(ETHNICITY, r"cannot speak english", ("with", "limited English"), None, ABOVE_3,
      "cannot speak English"),
    T(ETHNICITY, r"main language (?:is )?not english.*: can speak english very well",
      ("with", "many other first languages"), None, ABOVE_3,
      "have another main language and speak English very well"),
    T(ETHNICITY, r"main language (?:is )?not english.*: can speak english well",
      ("with", "many other first languages"), None, ABOVE_3,
      "have another main language and speak English well"),
    T(ETHNICITY, r"main language (?:is )?not english(?: \([^)]*\))?$",
      ("with", "many other first languages"), None, ABOVE_3,
      "have a main language other than English"),
    T(ETHNICITY, r"main language (?:is )?not english", ("with", "many other first languages")),
    # ethnic groups: words made from the group's name (see _ethnic_term)
)

THEME_KEYWORDS = (
    (ETHNICITY, r"ethnic|\bwhite\b|\bblack\b|\basian\b|\bmixed\b|\barab|chinese|indian|"
                r"pakistani|bangladeshi|african|caribbean|gypsy|traveller|language|english|"
                r"\bborn\b|birth|religio|christian|muslim|jewish|hindu|sikh|buddhist|passport|"
                r"migra"),
    (HEALTH, r"health|disab|\bcare\b|carer|\bill|sick|limited"),
    (WORK, r"employ|\bwork|occupation|grade|income|benefit|claim|qualification|\bcars?\b|"
           r"\bvans?\b|\bjob|industry|apprentice|econom|deprivation|\bpoverty"),
    (AGE_HOUSEHOLD, r"\bage[sd]?\b|child|famil|household composition|couple|lone parent|"
                    r"one person|student|retired|pensioner|married|single"),
    (HOUSING, r"rent|owned|owner|tenure|dwelling|\bhouses?\b|\bflats?\b|bungalow|room|"
              r"heating|caravan|overcrowd|housing|accommodation|terrace|detached|maisonette|"
              r"tenement"),
)

# The usual ways a council's own file names its percentage columns (pct_housing_assoc,
# pct_semi, pct_no_quals), as ``words.humanise`` says them ("housing assoc", "semi", "no
# quals"): the whole name must match, so a census label never does. Looked up, for a column
# no labels file describes, before the census's words (which such a name may also match:
# "owned outright", "no car"); a column named in neither is said by its column name
# (``words.words_for``), never made into a phrase from its parts ("with semi").
COLUMN_VOCABULARY: tuple[Term, ...] = (
    T(HOUSING, r"^(?:council|la|local authority)(?: housing| rent(?:ed|al|ing)?| tenants?)?$",
      ("living in", "council housing"), ("with", "little council housing"), "households",
      "rent their home from the council"),
    T(HOUSING, r"^(?:housing assoc(?:iation)?|ha|other social)(?: rent(?:ed|al|ing)?| homes?)?$",
      ("living in", "housing association homes"), None, "households",
      "rent their home from a housing association or other social landlord"),
    T(HOUSING, r"^(?:mortgage|mortgaged|buying|owned (?:with )?(?:a )?mortgage)$",
      ("buying", "their homes"), None, "households",
      "are buying their home with a mortgage or loan"),
    T(HOUSING, r"^semi(?: ?detached)?(?: houses?| homes?)?$",
      ("living in", "semi-detached houses"), None, "homes",
      "are semi-detached houses or bungalows"),
    T(HOUSING, r"^detached(?: houses?| homes?)?$", ("living in", "detached houses"), None,
      "homes", "are detached houses or bungalows"),
    T(HOUSING, r"^terraced?(?: houses?| homes?)?$", ("living in", "terraced houses"), None,
      "homes", "are terraced houses or bungalows"),
    T(HOUSING, r"^(?:flats? purpose built|purpose built flats?)$",
      ("living in", "purpose-built flats"), None, "homes",
      "are in a purpose-built block of flats"),
    T(HOUSING, r"^(?:flats? converted|converted flats?)$", ("living in", "converted flats"),
      None, "homes", "are flats in a converted or shared house"),
    T(WORK, r"^(?:2|two) cars?(?: or vans?)?$", ("with", "two cars"), None, "households",
      "have two cars or vans"),
    T(AGE_HOUSEHOLD, r"^(?:one|1|single) person(?: households?)?$|^(?:living|lives) alone$",
      ("", "One-person households"), None, "households", "are of one person",
      fewer=("Households", "of one person")),
    T(AGE_HOUSEHOLD, r"^lone parents?(?: households?| families)?$", ("", "Lone parent families"),
      None, "households", "are lone parents with dependent children",
      fewer=("Households", "lone parent families")),
    T(AGE_HOUSEHOLD, r"^large households?$", ("", "Large households"),
      ("", "Smaller households"), None, None, fewer=LARGE),
    T(WORK, r"^no quals?$", ("without", "qualifications"), None, None, None),
    T(WORK, r"^(?:degree|degrees|level 4(?: quals?)?)$", ("", "Highly qualified"), None,
      None, None, TRAIT, fewer=("Residents", "highly qualified")),
    T(WORK, r"^never worked$", ("who", "have never worked"), None, None, None),
    T(WORK, r"^routine(?: work| workers)?$", ("in", "routine work"), None, None, None),
    T(AGE_HOUSEHOLD, r"^(?:full time )?students?$", ("", "Students"), None, None, None,
      fewer=("Residents", "students")),
)
