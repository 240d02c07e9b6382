"""The one place that decides who may see and change what.

Every selector, service, admin page and API handler asks here. Scope is by organisation
(municipality codes), computed once per principal, so a filter is a plain `owner_id IN (…)`
however many assets there are.
"""

import contextlib
from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from assets.models import ApiToken, Asset, Membership, Municipality, Region, Role

__all__ = [
    "Scope",
    "assets_visible",
    "assets_writable",
    "can_change_owner",
    "can_correct_records",
    "can_write_asset",
    "ensure_can_change_owner",
    "ensure_can_correct_records",
    "ensure_can_write",
    "get_or_404",
    "municipalities_visible",
    "municipalities_writable",
    "of_visible_assets",
    "principal_of",
    "regions_coordinated",
    "regions_visible",
    "scope_for",
]


@dataclass(frozen=True)
class Scope:
    is_admin: bool = False
    read: frozenset[str] = field(default_factory=frozenset)
    write: frozenset[str] = field(default_factory=frozenset)
    regions: frozenset[int] = field(default_factory=frozenset)
    coordinates: frozenset[int] = field(default_factory=frozenset)
    # Machine clients may write only records of their own ledger source.
    write_source: str | None = None

    def can_read(self, code: str | None) -> bool:
        return self.is_admin or code in self.read

    def can_write(self, code: str | None, source: str | None = None) -> bool:
        if self.is_admin:
            return True
        if code not in self.write:
            return False
        return self.write_source is None or source == self.write_source


NOBODY = Scope()


# Members and leads in one query each (UNION): a person's scope is computed on every request.
def _region_members(region_ids) -> set[str]:
    through = Region.members.through
    members = through.objects.filter(region_id__in=region_ids).values_list("municipality_id", flat=True)
    return set(members.union(Region.objects.filter(id__in=region_ids).order_by().values_list("lead_id", flat=True)))


def _regions_of(codes) -> set[int]:
    through = Region.members.through
    ids = through.objects.filter(municipality_id__in=codes).values_list("region_id", flat=True)
    return set(ids.union(Region.objects.filter(lead_id__in=codes).order_by().values_list("id", flat=True)))


def _compute(principal) -> Scope:
    if isinstance(principal, ApiToken):
        if principal.revoked_at is not None:
            return NOBODY
        own = frozenset({principal.municipality_id})
        # A token sees its own municipality's records, and the runs and plans of the regions it belongs to
        # (as its engineers do); it never coordinates.
        # ApiToken.authenticate read the regions with the token (region_ids); a token from elsewhere asks here.
        regions = getattr(principal, "region_ids", None)
        return Scope(read=own, write=own if principal.can_write else frozenset(),
                     regions=frozenset(_regions_of(own) if regions is None else regions), write_source=principal.source)
    if principal is None or not getattr(principal, "is_authenticated", False) or not principal.is_active:
        return NOBODY
    if principal.is_superuser:
        return Scope(is_admin=True)
    read: set[str] = set()
    write: set[str] = set()
    regions: set[int] = set()
    coordinates: set[int] = set()
    for m in Membership.objects.filter(user=principal):
        if m.role == Role.ENGINEER:
            write.add(m.municipality_id)
            own_regions = _regions_of({m.municipality_id})
            regions |= own_regions
            read |= {m.municipality_id} | _region_members(own_regions)
        elif m.role == Role.COORDINATOR:
            regions.add(m.region_id)
            coordinates.add(m.region_id)
            read |= _region_members({m.region_id})
        elif m.role == Role.VIEWER and m.municipality_id:
            read.add(m.municipality_id)
        elif m.role == Role.VIEWER:
            regions.add(m.region_id)
            read |= _region_members({m.region_id})
    return Scope(read=frozenset(read), write=frozenset(write), regions=frozenset(regions),
                 coordinates=frozenset(coordinates))


def scope_for(principal) -> Scope:
    """Scope of a user or API token, cached on the object for the request's lifetime."""
    if principal is None:
        return NOBODY
    cached = getattr(principal, "_gunmane_scope", None)
    if cached is None:
        cached = _compute(principal)
        # AnonymousUser may refuse the attribute; it is nobody anyway.
        with contextlib.suppress(AttributeError):
            principal._gunmane_scope = cached
    return cached


def _asset_filter(codes) -> Q:
    return Q(owner_id__in=codes) | Q(operator_id__in=codes)


def assets_visible(principal, qs: QuerySet | None = None) -> QuerySet:
    qs = Asset.objects.all() if qs is None else qs
    scope = scope_for(principal)
    if scope.is_admin:
        return qs
    return qs.filter(_asset_filter(scope.read)) if scope.read else qs.none()


def assets_writable(principal, qs: QuerySet | None = None) -> QuerySet:
    qs = Asset.objects.all() if qs is None else qs
    scope = scope_for(principal)
    if scope.is_admin:
        return qs
    if not scope.write:
        return qs.none()
    qs = qs.filter(_asset_filter(scope.write))
    return qs.filter(source=scope.write_source) if scope.write_source else qs


def of_visible_assets(principal, qs: QuerySet, path: str = "asset") -> QuerySet:
    """Records about assets (inspections, measures, conditions, photos via `inspection__asset`) are visible
    exactly when their asset is."""
    return qs.filter(**{f"{path}__in": assets_visible(principal)})


def can_write_asset(principal, asset: Asset) -> bool:
    scope = scope_for(principal)
    return scope.can_write(asset.owner_id, asset.source) or (
        asset.operator_id is not None and scope.can_write(asset.operator_id, asset.source)
    )


def can_correct_records(principal, asset: Asset) -> bool:
    """Correcting or withdrawing a recorded inspection of an asset: its municipality's engineers (who may write
    the asset) and the coordinators of a region the municipality belongs to; administrators. A viewer, an
    engineer of another town and a ledger key may not (a key writes through its own ledger's updates)."""
    if isinstance(principal, ApiToken):
        return False
    scope = scope_for(principal)
    if scope.is_admin or can_write_asset(principal, asset):
        return True
    return bool(scope.coordinates) and bool(_regions_of({asset.owner_id}) & scope.coordinates)


def ensure_can_correct_records(principal, asset: Asset) -> None:
    if not can_correct_records(principal, asset):
        raise PermissionDenied(_("Only the engineers of %(owner)s and its region's coordinators may correct or "
                                 "withdraw its inspections") % {"owner": asset.owner.name})


def ensure_can_write(principal, *, owner_code: str, source: str | None = None,
                     operator_code: str | None = None) -> None:
    scope = scope_for(principal)
    if scope.can_write(owner_code, source) or (operator_code and scope.can_write(operator_code, source)):
        return
    if scope.write_source and source != scope.write_source and owner_code in scope.write:
        raise PermissionDenied(
            _("This key may only write records of ledger source %(source)s") % {"source": scope.write_source}
        )
    raise PermissionDenied(
        _("You may not change assets of municipality %(code)s") % {"code": owner_code}
    )


def can_change_owner(principal, *, old_owner: str, new_owner: str, source: str | None = None) -> bool:
    """Handing an asset to another owner (管理者) needs the right to write for BOTH owners: an administrator,
    or someone who writes for the old and the new one. Being its operator is not enough, and neither is
    writing for only one side, so nobody can push an asset into, or pull one out of, another municipality."""
    if old_owner == new_owner:
        return True
    scope = scope_for(principal)
    return scope.can_write(old_owner, source) and scope.can_write(new_owner, source)


def ensure_can_change_owner(principal, *, old_owner: str, new_owner: str, source: str | None = None) -> None:
    """The one rule for changing an asset's owner, used by the API, the services, the admin form and imports."""
    if not can_change_owner(principal, old_owner=old_owner, new_owner=new_owner, source=source):
        raise PermissionDenied(
            _("Changing the owner from %(old)s to %(new)s needs the right to write for both municipalities")
            % {"old": old_owner, "new": new_owner})


def _granted(model, principal, qs: QuerySet | None, key: str, scope_set: str) -> QuerySet:
    """Rows of `model` (or of `qs`) whose `key` is in one of the principal's scope sets; administrators: all."""
    qs = model.objects.all() if qs is None else qs
    scope = scope_for(principal)
    return qs if scope.is_admin else qs.filter(**{f"{key}__in": getattr(scope, scope_set)})


def municipalities_visible(principal, qs: QuerySet | None = None) -> QuerySet:
    return _granted(Municipality, principal, qs, "code", "read")


def municipalities_writable(principal, qs: QuerySet | None = None) -> QuerySet:
    return _granted(Municipality, principal, qs, "code", "write")


def regions_visible(principal, qs: QuerySet | None = None) -> QuerySet:
    return _granted(Region, principal, qs, "id", "regions")


def regions_coordinated(principal, qs: QuerySet | None = None) -> QuerySet:
    """Regions where the principal may run the engine and make plans."""
    return _granted(Region, principal, qs, "id", "coordinates")


def principal_of(request):
    """Who is asking: the API token when a ledger system called with one, else the signed-in person.
    The API's auth layer resolves it once per request (`request.principal`); pages fall back to the session."""
    principal = getattr(request, "principal", None)
    if principal is not None:
        return principal
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiToken) else request.user


def get_or_404(source, /, **lookup):
    """The one object `source` yields for `lookup`, else 404. `source` is a queryset already scoped to the
    principal (`access.regions_visible(p)`, `selectors.asset_list(principal=p)` …) or a scoped selector that
    takes the lookup and raises DoesNotExist (`run_get`, `plan_get` …). Absent and out of scope answer alike,
    so nobody learns what exists in another municipality. Every API handler looks records up through it."""
    try:
        return source.get(**lookup) if isinstance(source, QuerySet) else source(**lookup)
    except ObjectDoesNotExist:
        raise Http404 from None
