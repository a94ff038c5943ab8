"""Target files: the shipped ones load, bad ones are reported like bad scenarios."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import Result

from simlive.errors import InputFileError
from simlive.operations import OPERATIONS
from simlive.shops.files import load_target, parse_target
from simlive.shops.starter import starter
from simlive.shops.template import TemplateError, render

ROOT = Path(__file__).resolve().parents[2]
OSCAR = ROOT / "examples" / "oscar" / "target.yaml"

GOOD = """\
name: shop
auth:
  buyer: {from: token-file}
operations:
  order:
    method: POST
    url: /orders
    json: {sku: "{{ sku }}"}
    extract: {order_id: id}
"""


def test_reference_target_maps_the_reference_service() -> None:
    t = load_target("reference")
    assert t.unsupported == ["login", "start_session", "set_stock", "teardown"]
    assert t.supports("restock")  # a flash sale's units, at its opening
    assert t.operation("order").steps[0].headers == {"Idempotency-Key": "{{ key }}"}
    assert t.state != "history-only" and t.state.orders.next == "next_after"


def test_oscar_target_loads_with_its_hook_file() -> None:
    t = load_target(OSCAR)
    assert t.hooks is not None and t.hooks.endswith("examples/oscar/hooks.py:OscarHooks")
    assert len(t.operation("order").steps) == 2
    assert not t.supports("pay") and not t.supports("open_ticket")


def test_starter_lists_every_operation_and_loads(invoke: Callable[..., Result]) -> None:
    text = invoke("target", "init").output
    assert text == starter()
    t = parse_target(text, "starter.yaml")
    data = yaml.safe_load(text)
    assert list(data["operations"]) == list(OPERATIONS)
    assert {"create_product", "read_stock", "order"} <= {n for n in OPERATIONS
                                                         if t.supports(n)}


def test_json_schema_validates_the_shipped_targets(invoke: Callable[..., Result]) -> None:
    result = invoke("schema", "--target")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["title"] == "simlive target"
    for path in (ROOT / "simlive" / "shops" / "reference.yaml", OSCAR):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "operations": {"ordr": "unsupported"}}, schema)


@pytest.mark.parametrize("edit, message", [
    (("  order:", "  ordr:"),
     "shop.yaml:5: operations.ordr: expected a known key (did you mean 'order'?); found "
     "unknown key 'ordr'"),
    (("url: /orders", "url: orders"),
     "shop.yaml:7: operations.order.url: expected a path starting with '/' (the host comes "
     "from --host), or a placeholder holding one; found 'orders'"),
    (("{order_id: id}", "{order_id: 'id['}"),
     "shop.yaml:9: operations.order.extract: expected a JMESPath expression (Invalid "
     "jmespath expression: Incomplete expression:); found {'order_id': 'id['}"),
    (('"{{ sku }}"', '"{{ skew }}"'),
     "shop.yaml:7: operations.order.url: expected placeholders from: broadcast_id, key, "
     "limit, marker, name, price, price_cents, process, product, product_id, quantity, "
     "run_id, sku, slug, stock; found {{ skew }}"),
    (("{from: token-file}", "{from: create_users}"),
     "shop.yaml:3: auth.buyer.from: expected an operation the file maps (create_users is "
     "not in operations); found create_users"),
    (("{from: token-file}", "{from: env}"),
     "shop.yaml:3: auth.buyer: expected env: the variable's name (with from: env)"),
    (("name: shop", "name: shop\nhooks: nowhere.py:Hooks"),
     "shop.yaml:2: hooks: expected a Python file beside the target file; found no file"),
])
def test_bad_target_file_names_file_line_and_key(tmp_path: Path, edit: tuple[str, str],
                                                 message: str) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(GOOD.replace(*edit), encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        load_target(path)
    text = str(err.value).replace(str(tmp_path) + "/", "")
    assert text.startswith(message), text


def test_bad_target_file_exits_2_without_traceback(tmp_path: Path,
                                                   invoke: Callable[..., Result]) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(GOOD.replace("method: POST", "method: SEND"), encoding="utf-8")
    result = invoke("target", "check", str(path), "--host", "http://127.0.0.1:9")
    assert result.exit_code == 2
    assert "shop.yaml:6: operations.order.method: expected one of GET, POST, PUT, PATCH or " \
           "DELETE; found 'SEND'" in result.output
    assert "Traceback" not in result.output
    result = invoke("target", "check", str(tmp_path / "missing.yaml"), "--host", "x")
    assert result.exit_code == 2 and "missing.yaml: (top level): expected an existing " \
        "file; found no such file" in result.output


def test_placeholders_keep_types_and_missing_ones_are_named() -> None:
    ctx = {"quantity": 2, "order_id": 17, "product": {"id": "p-9"}, "none": None}
    assert render({"q": "{{ quantity }}", "p": "/o/{{ order_id }}/pay",
                   "n": ["{{ product.id }}", "{{ none }}"]}, ctx) == {
        "q": 2, "p": "/o/17/pay", "n": ["p-9", None]}
    with pytest.raises(TemplateError) as err:
        render("/orders/{{ order_idd }}", ctx)
    assert str(err.value).startswith("placeholder {{ order_idd }} has no value here")
