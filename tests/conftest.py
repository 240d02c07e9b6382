"""Personas in the spirit of healthchecks' alice/bob/charlie: owner, neighbour, outsider."""

import atexit
import copy
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from hypothesis import HealthCheck, settings

from assets.history import Actor
from assets.models import Membership, Municipality, Region, Role, Via
from assets.services import asset_create

# Property tests check rules, not speed: on a loaded 2-core machine a case can take longer than hypothesis'
# 200 ms default deadline, which would fail a correct rule. Speed is measured by `make bench`.
settings.register_profile("gunmane", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.load_profile("gunmane")

# Each persona's password would cost a third of a second of PBKDF2: a fast hasher keeps the fixtures cheap.
# Production keeps Django's default hashers; nothing here tests the hashing itself.
django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The cache as configured without Redis (files, config/settings.py), in a directory of this run's own, so cached
# tiles never outlive a test run (tests/config/test_cache.py tests the settings themselves).
_CACHE_DIR = tempfile.mkdtemp(prefix="gunmane-test-cache-")
atexit.register(shutil.rmtree, _CACHE_DIR, True)
django_settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                                      "LOCATION": _CACHE_DIR}}


def _square(lon, lat, d=0.02):
    return MultiPolygon(Polygon.from_bbox((lon - d, lat - d, lon + d, lat + d)), srid=6668)


@dataclass
class World:
    yashio: Municipality
    soka: Municipality
    wajima: Municipality
    saitama: Municipality
    region: Region
    admin: object
    alice: object  # 八潮市 engineer
    bob: object  # 草加市 engineer, same region as alice
    charlie: object  # 輪島市 engineer, outsider
    carol: object  # 中川 coordinator
    victor: object  # viewer of 八潮市


# The catalogue's rows as load_catalogue first wrote them in this session, per model (GradingScheme, Grade,
# MeasureKind, MemberKind). load_catalogue upserts row by row (some 650 queries, a third of a second); most tests
# start from an empty catalogue, and for them the same rows are inserted again in four statements.
_catalogue_rows: list | None = None


def catalogue_loaded() -> None:
    """The grading catalogue in the database, exactly as `load_catalogue()` leaves it in an empty one (the same
    rows and ids, copied from this session's first load; the sequences are past those ids already)."""
    global _catalogue_rows
    from inspections.catalogue import load_catalogue, scheme_dict
    from inspections.models import Grade, GradingScheme, MeasureKind, MemberKind

    models = (GradingScheme, Grade, MeasureKind, MemberKind)
    empty = not any(m.objects.exists() for m in models)
    if not empty or _catalogue_rows is None:
        load_catalogue()
        if empty:
            _catalogue_rows = [[{f.attname: getattr(o, f.attname) for f in m._meta.concrete_fields}
                                for o in m.objects.order_by("pk")] for m in models]
        return
    for m, rows in zip(models, _catalogue_rows, strict=True):
        m.objects.bulk_create([m(**copy.deepcopy(row)) for row in rows])
    scheme_dict.cache_clear()


@pytest.fixture
def world(db) -> World:
    catalogue_loaded()
    def muni(code, name, kind, pref, lon, lat):
        return Municipality.objects.create(code=code, kind=kind, name=name, prefecture=pref,
                                           boundary=_square(lon, lat), hall_location=Point(lon, lat, srid=6668))

    yashio = muni("112348", "八潮市", "city", "埼玉県", 139.839, 35.822)
    soka = muni("112216", "草加市", "city", "埼玉県", 139.805, 35.825)
    wajima = muni("172049", "輪島市", "city", "石川県", 136.899, 37.391)
    saitama = muni("110001", "埼玉県", "prefecture", "埼玉県", 139.649, 35.857)
    region = Region.objects.create(slug="nakagawa", name="中川流域", lead=saitama)
    region.members.set([yashio, soka, saitama])
    User = get_user_model()

    def user(name, role=None, municipality=None, region_=None, superuser=False):
        u = User.objects.create_user(name, password="pw-" + name, is_staff=True, is_superuser=superuser)
        if role:
            Membership.objects.create(user=u, role=role, municipality=municipality, region=region_)
        return u

    return World(
        yashio, soka, wajima, saitama, region,
        admin=user("admin", superuser=True),
        alice=user("alice", Role.ENGINEER, yashio),
        bob=user("bob", Role.ENGINEER, soka),
        charlie=user("charlie", Role.ENGINEER, wajima),
        carol=user("carol", Role.COORDINATOR, region_=region),
        victor=user("victor", Role.VIEWER, yashio),
    )


def make_pipe(owner, *, actor=None, external_id="P-1", lon=139.839, lat=35.822, **detail):
    from django.contrib.gis.geos import LineString

    data = {"drainage_system": "sanitary", "material": "rc", "diameter_mm": 300, "length_m": 50.0}
    data.update(detail)
    return asset_create(
        actor=actor or Actor.system(Via.SYSTEM), owner=owner, kind="sewer_pipe", source="gesuido-daicho",
        external_id=external_id, name="テスト管渠",
        geom=LineString((lon, lat), (lon + 0.0005, lat), srid=6668), built_fiscal_year=1985, detail=data,
    )


def signed_in(user):
    """A test client signed in as `user` whose server errors come back as 500 responses (not raised), so a test
    can assert that bad input never gets one."""
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def english_messages():
    """Tests read messages in English; the Japanese default is tested on its own."""
    from django.utils import translation

    with translation.override("en"):
        yield


def make_asset(owner, kind, *, external_id="X-1", actor=None, lon=139.839, lat=35.822, built=1980, **detail):
    """One asset of any kind at (lon, lat) with plausible defaults for its detail."""
    from django.contrib.gis.geos import LineString, Point

    defaults = {
        "road_segment": {"road_class": "municipal_1", "length_m": 50.0},
        "bridge": {"length_m": 20.0, "width_m": 8.0, "structure_type": "pc", "crosses": "river"},
        "sewer_pipe": {"drainage_system": "sanitary", "material": "rc", "diameter_mm": 300, "length_m": 50.0},
        "manhole": {},
        "septic_tank": {"treatment": "combined", "capacity_persons": 5},
        "tunnel": {"length_m": 120.0, "width_m": 9.0, "structure_form": "NATM"},
        "shed_culvert": {"length_m": 30.0, "width_m": 8.0},
        "ped_overpass": {"length_m": 25.0, "width_m": 2.5},
        "gantry_sign": {"length_m": 15.0},
    }[kind]
    line = kind in ("road_segment", "sewer_pipe")
    geom = LineString((lon, lat), (lon + 0.0005, lat), srid=6668) if line else Point(lon, lat, srid=6668)
    return asset_create(actor=actor or Actor.system(Via.SYSTEM), owner=owner, kind=kind, source="daicho",
                        external_id=external_id, name=f"テスト{kind}", geom=geom, built_fiscal_year=built,
                        detail={**defaults, **detail})


def jpeg_bytes(size=(64, 48), fmt="JPEG") -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (120, 160, 200)).save(buf, format=fmt)
    return buf.getvalue()


@contextmanager
def module_data(django_db_blocker):
    """For a module-scoped fixture: what it writes stays for the module's tests (each runs in a savepoint inside
    this transaction, so what a test changes is undone after it) and is rolled back after the last one. For data
    that is expensive to make (a generated region) and that the tests read, or change only inside themselves."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)
