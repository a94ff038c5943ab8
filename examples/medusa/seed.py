"""What a Medusa guest checkout needs, made over the admin API (stdlib only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from pgcluster import ShopError

ADMIN_EMAIL = "admin@test.local"
ADMIN_PASSWORD = "secret"
COUNTRY = "nl"
CURRENCY = "eur"
REGION_NAME = "simlive NL"
LOCATION_NAME = "simlive warehouse"
OPTION_NAME = "simlive standard"
KEY_TITLE = "simlive"
HTTP_TIMEOUT = 30.0


# --- the admin API -------------------------------------------------------------------------


class Api:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.token: str | None = None

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("accept", "application/json")
        if data is not None:
            req.add_header("content-type", "application/json")
        if self.token:
            req.add_header("authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as r:
                raw = r.read()
        except urllib.error.HTTPError as exc:
            text = exc.read()[:400].decode("utf-8", "replace")
            raise ShopError(f"{method} {path} -> HTTP {exc.code}: {text}") from None
        return json.loads(raw) if raw else {}


def seed(base_url: str) -> dict[str, str]:
    """What a guest checkout needs, found by name or created; returns the ids."""
    api = Api(base_url)
    api.token = api.call("POST", "/auth/user/emailpass",
                         {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})["token"]
    store = api.call("GET", "/admin/stores")["stores"][0]
    sc = store["default_sales_channel_id"]
    sp = api.call("GET", "/admin/shipping-profiles?type=default")["shipping_profiles"][0]["id"]

    regions = api.call("GET", "/admin/regions?limit=200&fields=id,name")["regions"]
    region = next((r["id"] for r in regions if r["name"] == REGION_NAME), None)
    if region is None:
        region = api.call("POST", "/admin/regions", {
            "name": REGION_NAME, "currency_code": CURRENCY, "countries": [COUNTRY],
            "payment_providers": ["pp_system_default"]})["region"]["id"]
    if not api.call("GET", f"/admin/tax-regions?country_code={COUNTRY}")["tax_regions"]:
        api.call("POST", "/admin/tax-regions", {"country_code": COUNTRY,
                                                "provider_id": "tp_system"})

    locs = api.call("GET", "/admin/stock-locations?limit=200&fields=id,name")["stock_locations"]
    loc = next((x["id"] for x in locs if x["name"] == LOCATION_NAME), None)
    if loc is None:
        loc = api.call("POST", "/admin/stock-locations", {
            "name": LOCATION_NAME,
            "address": {"address_1": "Damrak 1", "city": "Amsterdam",
                        "country_code": COUNTRY}})["stock_location"]["id"]
    api.call("POST", f"/admin/stock-locations/{loc}/sales-channels", {"add": [sc]})
    api.call("POST", f"/admin/stock-locations/{loc}/fulfillment-providers",
             {"add": ["manual_manual"]})
    fields = "?fields=id,*fulfillment_sets,*fulfillment_sets.service_zones"
    sets = api.call("GET", f"/admin/stock-locations/{loc}{fields}")["stock_location"][
        "fulfillment_sets"] or []
    fset = next((f for f in sets if f["type"] == "shipping"), None)
    if fset is None:
        sets = api.call("POST", f"/admin/stock-locations/{loc}/fulfillment-sets{fields}",
                        {"name": "simlive delivery", "type": "shipping"})["stock_location"][
            "fulfillment_sets"]
        fset = next(f for f in sets if f["type"] == "shipping")
    zones = fset.get("service_zones") or []
    if zones:
        zone = zones[0]["id"]
    else:
        zone = api.call("POST", f"/admin/fulfillment-sets/{fset['id']}/service-zones", {
            "name": "simlive nl", "geo_zones": [{"type": "country", "country_code": COUNTRY}]}
        )["fulfillment_set"]["service_zones"][0]["id"]

    options = api.call("GET", "/admin/shipping-options?limit=200&fields=id,name,"
                              "service_zone_id")["shipping_options"]
    option = next((o["id"] for o in options
                   if o["name"] == OPTION_NAME and o["service_zone_id"] == zone), None)
    if option is None:
        option = api.call("POST", "/admin/shipping-options", {
            "name": OPTION_NAME, "service_zone_id": zone, "shipping_profile_id": sp,
            "provider_id": "manual_manual", "price_type": "flat",
            "type": {"label": "Standard", "code": "standard", "description": "simlive"},
            "prices": [{"currency_code": CURRENCY, "amount": 5}],
            "rules": [{"attribute": "enabled_in_store", "operator": "eq", "value": "true"},
                      {"attribute": "is_return", "operator": "eq", "value": "false"}],
        })["shipping_option"]["id"]

    keys = api.call("GET", "/admin/api-keys?type=publishable&limit=200")["api_keys"]
    key = next((k for k in keys if k["title"] == KEY_TITLE and not k.get("revoked_at")), None)
    if key is None:
        key = api.call("POST", "/admin/api-keys", {"title": KEY_TITLE,
                                                   "type": "publishable"})["api_key"]
    api.call("POST", f"/admin/api-keys/{key['id']}/sales-channels", {"add": [sc]})
    return {"sales_channel_id": sc, "shipping_profile_id": sp, "region_id": region,
            "stock_location_id": loc, "fulfillment_set_id": fset["id"],
            "service_zone_id": zone, "shipping_option_id": option,
            "publishable_key": key["token"]}
