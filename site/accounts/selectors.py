"""Scope: what part of the region tree a user may see and act on.

Every app filters its querysets through `scope()`; nothing else decides regional
visibility. A superuser sees everything, a staff user the subtree of their region node,
anyone else nothing (applicants reach their own data through their organisations)."""

from django.db.models import Q, QuerySet

from .models import Region, User


def user_scope_region(user) -> Region | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return user.region


def scope(queryset: QuerySet, user, *, region_field: str = "region") -> QuerySet:
    """Filter `queryset` to rows whose `region_field` lies in the user's subtree.

    `region_field` is the lookup path to a Region FK, e.g. "region" or "organisation__region".
    One indexed prefix condition on the region's materialised path, no extra queries
    beyond loading the user's region (usually already cached on request.user)."""
    if getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser:
        return queryset
    region = user_scope_region(user)
    if region is None:
        return queryset.none()
    return queryset.filter(**{f"{region_field}__path__startswith": region.path})


def scope_q(user, *, region_field: str = "region") -> Q | None:
    """The same rule as a Q object (None = no restriction); for OR-ing with other rules."""
    if getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser:
        return None
    region = user_scope_region(user)
    if region is None:
        return Q(pk__in=[])
    return Q(**{f"{region_field}__path__startswith": region.path})


def region_in_scope(user, region: Region | None) -> bool:
    if getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser:
        return True
    own = user_scope_region(user)
    return own is not None and own.contains(region)


def has_scoped_perm(user, perm: str, region: Region | None) -> bool:
    """The one permission rule for acting on a regional object: an active, logged-in user
    holding `perm` whose scope contains `region` (a superuser always)."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.has_perm(perm)
        and region_in_scope(user, region)
    )


def regions_for(user) -> QuerySet:
    """The region nodes a user may pick in a form or filter (their subtree)."""
    if getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser:
        return Region.objects.all()
    own = user_scope_region(user)
    if own is None:
        return Region.objects.none()
    return Region.objects.filter(path__startswith=own.path)


def staff_users_for_region(region: Region, role=None) -> QuerySet:
    """Staff whose scope covers `region` (its node and every ancestor): who to notify."""
    paths = [region.path[: i * Region.steplen] for i in range(1, region.depth + 1)]
    qs = User.objects.filter(is_active=True, region__path__in=paths)
    if role is not None:
        from .roles import GROUP_NAMES

        qs = qs.filter(groups__name=GROUP_NAMES[role])
    return qs.distinct()
