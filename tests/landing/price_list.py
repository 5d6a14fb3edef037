"""A stateful stand-in for the AWS Price List Query API (`pricing:GetProducts`), behaving as its documentation says:
products in the aws_v1 format (JSON strings in PriceList), TERM_MATCH filters on productFamily and any product
attribute, paging by MaxResults/NextToken. Each request is checked against botocore's model of the real API."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.validate import ParamValidator

MODEL = boto3.session.Session(region_name="us-east-1").client("pricing").meta.service_model


def product(service: str, family: str, usage: str, usd: float, **attributes: str) -> dict[str, Any]:
    sku = f"SKU{abs(hash((service, usage, tuple(sorted(attributes.items()))))) % 10**10}"
    return {
        "product": {
            "productFamily": family,
            "attributes": {"servicecode": service, "usagetype": usage, **attributes},
            "sku": sku,
        },
        "serviceCode": service,
        "terms": {
            "OnDemand": {
                f"{sku}.JRTCKXETXF": {
                    "priceDimensions": {
                        f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                            "unit": "Hrs",
                            "beginRange": "0",
                            "endRange": "Inf",
                            "pricePerUnit": {"USD": f"{usd:.10f}"},
                        }
                    },
                    "sku": sku,
                }
            }
        },
        "publicationDate": "2026-11-30T00:00:00Z",
    }


class PriceList:
    def __init__(self, products: list[dict[str, Any]]) -> None:
        self.products = products
        self.requests: list[dict[str, Any]] = []

    def get_products(self, **params: Any) -> dict[str, Any]:
        report = ParamValidator().validate(params, MODEL.operation_model("GetProducts").input_shape)
        assert not report.has_errors(), report.generate_report()
        self.requests.append(params)
        found = [p for p in self.products if p["serviceCode"] == params["ServiceCode"] and self._matches(p, params)]
        start = int(params.get("NextToken") or 0)
        size = int(params.get("MaxResults", 100))
        page: dict[str, Any] = {
            "FormatVersion": "aws_v1",
            "PriceList": [json.dumps(p) for p in found[start : start + size]],
        }
        if start + size < len(found):
            page["NextToken"] = str(start + size)
        return page

    @staticmethod
    def _matches(item: dict[str, Any], params: dict[str, Any]) -> bool:
        values = {"productFamily": item["product"]["productFamily"], **item["product"]["attributes"]}
        return all(values.get(f["Field"]) == f["Value"] for f in params.get("Filters", []))
