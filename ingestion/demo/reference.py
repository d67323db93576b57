"""Fixed reference lists the generator draws from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    iso2: str
    calling_code: str
    spellings: tuple[str, ...]
    cities: tuple[str, ...]
    regions: tuple[str, ...]
    national_trunk: bool  # national phone numbers start with a 0 trunk prefix


COUNTRIES: tuple[Country, ...] = (
    Country("US", "1", ("US", "usa", "United States", "U.S.A."),
            ("New York", "Chicago", "Austin", "Seattle", "Denver"), ("East", "Central", "West"),
            False),
    Country("GB", "44", ("GB", "uk", "United Kingdom", "Great Britain"),
            ("London", "Leeds", "Bristol", "Glasgow"), ("North", "South"), True),
    Country("DE", "49", ("DE", "deu", "Germany", "Deutschland"),
            ("Berlin", "Hamburg", "Munich", "Cologne"), ("North", "South"), True),
    Country("FR", "33", ("FR", "fra", "France"),
            ("Paris", "Lyon", "Marseille", "Lille"), ("North", "South"), True),
    Country("NL", "31", ("NL", "nld", "Netherlands", "Holland"),
            ("Amsterdam", "Rotterdam", "Utrecht"), ("West", "East"), True),
    Country("ES", "34", ("ES", "esp", "Spain", "España"),
            ("Madrid", "Barcelona", "Valencia", "Seville"), ("North", "South"), False),
)

UNKNOWN_COUNTRY_SPELLING = "Atlantis"

FIRST_NAMES = (
    "james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda", "david",
    "elizabeth", "william", "barbara", "richard", "susan", "joseph", "jessica", "thomas",
    "sarah", "lukas", "emma", "hannah", "louis", "chloe", "daan", "sophie", "lucia", "pablo",
    "oliver", "amelia", "noah", "mia", "leon", "clara", "hugo", "ines", "marta", "jonas",
)
LAST_NAMES = (
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "martin",
    "müller", "schmidt", "schneider", "dubois", "bernard", "de vries", "jansen", "lopez",
    "fernandez", "o'brien", "taylor", "wilson", "moreau", "fischer", "bakker", "sanchez",
)
EMAIL_DOMAINS = ("example.com", "mail.example.org", "shop.example.net", "post.example.de")
LOYALTY_TIERS = ("bronze", "silver", "gold", "platinum")
PAYMENT_METHODS = ("card", "cash", "mobile", "gift_card")
CHANNEL_PREFERENCES = ("store", "online", "both")

# Raw ERP category labels; several spellings map to one conformed category in a dbt seed.
CATEGORY_LABELS: tuple[tuple[str, str], ...] = (
    ("Apparel", "APPAREL"), ("Apparel", "Clothing & Apparel"),
    ("Footwear", "Shoes"), ("Footwear", "FOOTWEAR"),
    ("Home", "Home & Living"), ("Home", "home"),
    ("Electronics", "Electronics"), ("Electronics", "Consumer Electronics"),
    ("Beauty", "Beauty & Care"), ("Grocery", "Grocery"), ("Toys", "Toys & Games"),
    ("Sports", "Sports & Outdoor"),
)
BRANDS = (
    "Northwind", "Contoso", "Fabrikam", "Tailspin", "Adatum", "Litware", "Proseware",
    "Wingtip", "Woodgrove", "Lucerne",
)
PRODUCT_NOUNS = (
    "shirt", "jacket", "sneaker", "boot", "lamp", "mug", "speaker", "headphones", "serum",
    "coffee", "puzzle", "ball", "backpack", "blanket", "charger", "scarf",
)
