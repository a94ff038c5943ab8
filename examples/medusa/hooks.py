"""simlive hooks for Medusa 2.x: ``create_product`` as Python instead of eight target steps.

Creating a product that a guest can buy in Medusa takes more than one request: the product
must sit in the default sales channel and the default shipping profile, its one variant
needs a price in the cart's currency (eur here) and managed inventory, and the inventory
item Medusa creates for that variant needs a level at a stock location that ships. The ids
of the sales channel, shipping profile, eur region, stock location and shipping option are
looked up once per hook object and kept; each product then costs two requests (create the
product with its variant, set the level to ``args["stock"]``).

The answer's fields (product_id, variant_id, inventory_item_id, location_id, region_id,
shipping_option_id, sales_channel_id) become the run's product fields, usable in templates
as ``{{ product.variant_id }}`` and so on.

Used by ``target-hook.yaml``. ``target.yaml`` maps the same requests as plain steps, because
simlive 0.1.0 calls hooks only from Locust users and ``--dry-run``, not from the setup of
``simlive load`` or from ``simlive target check`` (see NOTES.md, "simlive problems").
"""

from __future__ import annotations

from typing import Any

from simlive.shops.hooks import OK, OperationClient, OpResult, Request, send

CURRENCY = "eur"


def _get(url: str, extract: dict[str, str]) -> Request:
    return Request(method="GET", url=url, extract=extract)


class MedusaHooks:
    def __init__(self) -> None:
        self.shop: dict[str, Any] | None = None  # the ids every product needs, looked up once

    def _lookup(self, client: OperationClient, args: dict[str, Any]
                ) -> tuple[dict[str, Any] | None, OpResult | None, list]:
        """The shop's fixed ids: (ids, None, requests sent) or (None, the failed lookup,
        requests sent)."""
        if self.shop is not None:
            return self.shop, None, []
        found: dict[str, Any] = {}
        sent: list = []
        steps = [
            _get("/admin/stores?fields=id,default_sales_channel_id",
                 {"sales_channel_id": "stores[0].default_sales_channel_id"}),
            _get("/admin/shipping-profiles?type=default&fields=id",
                 {"shipping_profile_id": "shipping_profiles[0].id"}),
            _get(f"/admin/regions?currency_code={CURRENCY}&fields=id",
                 {"region_id": "regions[0].id"}),
            _get("/admin/stock-locations?sales_channel_id={{ sales_channel_id }}&fields=id",
                 {"location_id": "stock_locations[0].id"}),
            _get("/admin/shipping-options?stock_location_id={{ location_id }}&fields=id",
                 {"shipping_option_id": "shipping_options[0].id"}),
        ]
        dry = getattr(client.transport, "dry", False)  # --dry-run: answers are empty
        for step in steps:
            res = send(client, step, "create_product", {**args, **found})
            sent += res.requests
            if dry:
                res.fields = {k: f"<{k}>" if v is None else v for k, v in res.fields.items()}
            missing = [k for k, v in res.fields.items() if v is None]
            if not res.ok or missing:
                if res.ok:  # answered, but the shop lacks what a checkout needs
                    res = OpResult("fail", res.fields, res.status,
                                   f"the shop has no {', '.join(missing)} (run shop.py serve)",
                                   res.requests)
                return None, res, sent
            found.update(res.fields)
        if not dry:
            self.shop = found
        return found, None, sent

    def create_product(self, client: OperationClient, args: dict[str, Any]) -> OpResult:
        shop, failed, looked = self._lookup(client, args)
        if failed is not None:
            failed.requests = looked
            return failed
        assert shop is not None
        ctx = client.context_for("create_product", args)
        sku, name = ctx["sku"], ctx.get("name") or ctx["sku"]
        body = {
            "title": name, "status": "published",
            "shipping_profile_id": shop["shipping_profile_id"],
            "sales_channels": [{"id": shop["sales_channel_id"]}],
            "options": [{"title": "Default", "values": ["Default"]}],
            "variants": [{"title": name, "sku": sku, "manage_inventory": True,
                          "allow_backorder": False, "options": {"Default": "Default"},
                          "prices": [{"currency_code": CURRENCY,
                                      "amount": ctx.get("price") or 1}]}],
        }
        if ctx.get("slug"):
            body["handle"] = ctx["slug"]
        made = send(client, Request(
            method="POST", url="/admin/products?fields=id,variants.id,"
                               "variants.inventory_items.inventory_item_id",
            json=body, ok={"status": [200]},
            extract={"product_id": "product.id", "variant_id": "product.variants[0].id",
                     "inventory_item_id":
                         "product.variants[0].inventory_items[0].inventory_item_id"}),
            "create_product", args)
        if not made.ok:
            made.requests = looked + made.requests
            return made
        if getattr(client.transport, "dry", False):
            made.fields = {k: f"<{k}>" if v is None else v for k, v in made.fields.items()}
        level = send(client, Request(
            method="POST", url="/admin/inventory-items/{{ inventory_item_id }}/location-levels",
            json={"location_id": shop["location_id"], "stocked_quantity": "{{ stock }}"},
            ok={"status": [200]}), "create_product",
            {**args, "inventory_item_id": made.fields["inventory_item_id"]})
        requests = looked + made.requests + level.requests
        if not level.ok:
            return OpResult(level.outcome, {}, level.status, level.error, requests)
        fields = {**made.fields, "location_id": shop["location_id"],
                  "region_id": shop["region_id"],
                  "shipping_option_id": shop["shipping_option_id"],
                  "sales_channel_id": shop["sales_channel_id"]}
        return OpResult(OK, fields, level.status, None, requests)
