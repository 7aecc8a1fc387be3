"""实施地点: the streets and communities a proposal may name, and the picker that shows
them grouped by district and street on a city call (grants.forms.proposals.BasicForm)."""

from django import forms
from django.db.models import Q

from accounts.models import Region


def place_choices(call, extra=()) -> list:
    """The streets and communities inside the call's region, grouped by street (the
    street itself first: 全街道), plus any saved place outside it. One query."""
    region = call.region
    nodes = list(
        Region.objects.filter(
            Q(path__startswith=region.path, level__in=[Region.Level.STREET, Region.Level.COMMUNITY])
            | Q(pk__in=[p.pk for p in extra])
        ).order_by("path")
    )
    streets = {n.path: n for n in nodes if n.level == Region.Level.STREET}
    groups: dict[str, list] = {}
    flat = []
    for n in nodes:
        inside = n.path.startswith(region.path)
        if not inside:
            flat.append((n.pk, f"{n.name}（不在本次征集区域内）"))
        elif n.level == Region.Level.STREET:
            groups.setdefault(n.name, []).append((n.pk, f"{n.name}（全街道）"))
        else:
            street = streets.get(n.path[: Region.steplen * Region.Level.STREET])
            if street is None:  # a community call: the community alone
                flat.append((n.pk, n.name))
            else:
                groups.setdefault(street.name, []).append((n.pk, n.name))
    return flat + list(groups.items())


def place_tree(call, extra=()) -> dict:
    """The places of a call above street level, for the picker: `districts` (each with its
    `streets`, each with its `options` (pk, label): the street itself first, 全街道) and
    `outside` (saved places outside the call's region, or above street level). One query."""
    region = call.region
    nodes = list(
        Region.objects.filter(
            Q(
                path__startswith=region.path,
                level__in=[Region.Level.DISTRICT, Region.Level.STREET, Region.Level.COMMUNITY],
            )
            | Q(pk__in=[p.pk for p in extra])
        ).order_by("path")
    )
    districts, streets, outside = {}, {}, []
    saved = {p.pk for p in extra}
    for n in nodes:
        if not n.path.startswith(region.path):
            outside.append((n.pk, f"{n.name}（不在本次征集区域内）"))
        elif n.level == Region.Level.DISTRICT:
            districts[n.path] = {"name": n.name, "streets": []}
            if n.pk in saved:  # a whole district, saved before: kept, shown first
                outside.append((n.pk, f"{n.name}（全区）"))
        elif n.level == Region.Level.STREET:
            district = districts.get(n.path[: Region.steplen * Region.Level.DISTRICT])
            streets[n.path] = {"name": n.name, "options": [(n.pk, f"{n.name}（全街道）")]}
            if district is not None:
                district["streets"].append(streets[n.path])
        elif n.level == Region.Level.COMMUNITY and n.path[: Region.steplen * Region.Level.STREET] in streets:
            streets[n.path[: Region.steplen * Region.Level.STREET]]["options"].append((n.pk, n.name))
        else:  # the call's own region (or a place not under a street), saved before
            outside.append((n.pk, n.name))
    return {"districts": [d for d in districts.values() if d["streets"]], "outside": outside}


class PlacePicker(forms.CheckboxSelectMultiple):
    """The places of a call above street level grouped by district, then street, in
    <details> (no script needed): a district opens when one of its places is ticked or it
    is the call's only district, a street when one of its places is ticked; each summary
    says how many are ticked. Same name, values and POST as the plain checkbox list, which
    a street or community call keeps."""

    template_name = "grants/portal/_places.html"
    tree = None  # a callable returning place_tree(...): set by the form when grouped

    def get_context(self, name, value, attrs):
        if self.tree is None:
            self.template_name = forms.CheckboxSelectMultiple.template_name
            return super().get_context(name, value, attrs)
        context = forms.Widget.get_context(self, name, value, attrs)
        ticked = {str(v) for v in (value or [])}
        base = context["widget"]["attrs"].get("id") or f"id_{name}"
        counter = iter(range(10_000))

        def options(pairs):
            return [
                {"value": pk, "label": label, "checked": str(pk) in ticked, "id": f"{base}_{next(counter)}"}
                for pk, label in pairs
            ]

        tree = self.tree()
        districts = []
        for d in tree["districts"]:
            streets = []
            for s in d["streets"]:
                opts = options(s["options"])
                streets.append({"name": s["name"], "options": opts, "ticked": sum(o["checked"] for o in opts)})
            districts.append({"name": d["name"], "streets": streets, "ticked": sum(s["ticked"] for s in streets)})
        for d in districts:
            d["open"] = bool(d["ticked"]) or len(districts) == 1
        context["widget"].update(
            tree=True, districts=districts, outside=options(tree["outside"]), ticked_count=len(ticked)
        )
        return context
