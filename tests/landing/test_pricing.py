"""Where prices come from: the Price List API when it answers (one unambiguous product per item), else the dated
table; every figure says which. The API is a stateful fake of pricing:GetProducts (tests/landing/price_list.py)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from simulation.client import cost, pricing
from simulation.errors import SimulationError
from tests.landing.price_list import PriceList, product

EU = "eu-west-1"


def catalogue() -> PriceList:
    ec2 = {
        "instanceType": "m6i.xlarge",
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
        "licenseModel": "No License required",
        "operation": "RunInstances",
    }
    return PriceList(
        [
            # us-east-1 spells its usage types without a region prefix; the regional NAT gateway is a decoy.
            product("AmazonEC2", "NAT Gateway", "NatGateway-Hours", 0.045, regionCode="us-east-1"),
            product("AmazonEC2", "NAT Gateway", "USE1-RegionalNatGateway-Hours", 0.09, regionCode="us-east-1"),
            # eu-west-1's prefix is "EU-", not derivable from the region code.
            product("AmazonEC2", "NAT Gateway", "EU-NatGateway-Hours", 0.048, regionCode=EU),
            product("AmazonEC2", "NAT Gateway", "EU-NatGateway-Bytes", 0.048, regionCode=EU),
            product("AmazonVPC", "VpcEndpoint", "EU-VpcEndpoint-Hours", 0.011, regionCode=EU),
            product("AmazonVPC", "VpcEndpoint", "EU-Outposts-VpcEndpoint-Hours", 0.5, regionCode=EU),
            product("AmazonVPC", "VpcEndpoint", "EU-TS-VpcEndpoint-Hours", 0.002, regionCode=EU),
            product("AmazonEC2", "Compute Instance", "EU-BoxUsage:m6i.xlarge", 0.214, regionCode=EU, **ec2),
            product(
                "AmazonSageMaker",
                "ML Instance",
                "EU-Processing:ml.c5.xlarge",
                0.23,
                regionCode=EU,
                instanceName="ml.c5.xlarge",
            ),
            product(
                "AmazonSageMaker",
                "ML Instance",
                "EU-Notebk:ml.c5.xlarge",
                0.24,
                regionCode=EU,
                instanceName="ml.c5.xlarge",
            ),
            # Two different prices for one item: ambiguous, so the table answers for it.
            product(
                "AmazonEFS", "Storage", "EU-TimedStorage-ByteHrs", 0.33, regionCode=EU, storageClass="General Purpose"
            ),
            product("AmazonEFS", "Storage", "EUW1-TimedStorage-ByteHrs", 0.99, regionCode=EU, storageClass="Other"),
        ]
    )


def test_the_api_answers_each_item_with_its_one_matching_product_and_the_date_read():
    api = catalogue()
    keys = ["nat_gateway_hour", "nat_gateway_gb", "endpoint_az_hour", "ec2:m6i.xlarge", "sagemaker:ml.c5.xlarge"]
    prices = pricing.from_price_list(api, EU, keys, today="2026-12-07")
    assert {k: prices.usd(k) for k in keys} == {
        "nat_gateway_hour": 0.048,
        "nat_gateway_gb": 0.048,
        "endpoint_az_hour": 0.011,
        "ec2:m6i.xlarge": 0.214,
        "sagemaker:ml.c5.xlarge": 0.23,
    }
    assert {prices.source(k) for k in keys} == {"AWS Price List API, read 2026-12-07"}
    assert prices.notes == []
    # One request per (service, filters): the NAT gateway's two items share theirs.
    assert len(api.requests) == 4
    assert {"Type": "TERM_MATCH", "Field": "regionCode", "Value": EU} in api.requests[0]["Filters"]


def test_the_unprefixed_us_east_1_usage_type_is_found_and_a_lookalike_is_not():
    prices = pricing.from_price_list(catalogue(), "us-east-1", ["nat_gateway_hour"], today="2026-12-07")
    assert prices.usd("nat_gateway_hour") == 0.045


def test_items_the_api_cannot_price_unambiguously_come_from_the_table_and_say_so():
    prices = pricing.from_price_list(catalogue(), EU, ["efs_standard_gb_month", "secret_month"], today="2026-12-07")
    assert prices.usd("efs_standard_gb_month") == pricing.TABLE[EU]["efs_standard_gb_month"] == 0.33
    assert prices.source("secret_month") == f"table of {pricing.TABLE_DATE} ({EU})"
    assert prices.notes == [
        "AWS Price List API gave no single price for efs_standard_gb_month, secret_month: table figures used"
    ]


def test_paging_follows_next_token():
    api = catalogue()
    original = api.get_products
    api.get_products = lambda **params: original(**{**params, "MaxResults": 1})  # type: ignore[method-assign]
    prices = pricing.from_price_list(api, EU, ["endpoint_az_hour"], today="2026-12-07")
    assert prices.usd("endpoint_az_hour") == 0.011
    assert len(api.requests) == 3  # three VpcEndpoint products, one per page


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (NoCredentialsError(), "NoCredentialsError"),
        (
            ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetProducts"),
            "AccessDeniedException",
        ),
    ],
)
def test_without_the_api_auto_falls_back_to_the_table_and_api_refuses(error, reason):
    class Refusing:
        def get_products(self, **_: object) -> None:
            raise error

    prices = pricing.load(EU, ["nat_gateway_hour"], client_factory=Refusing)
    assert prices.usd("nat_gateway_hour") == 0.048
    assert prices.notes == [f"AWS Price List API not used ({reason}): checked-in table figures"]
    with pytest.raises(SimulationError, match=rf"^AWS Price List API did not answer \({reason}\)$"):
        pricing.load(EU, ["nat_gateway_hour"], source="api", client_factory=Refusing)


def test_a_region_without_table_prices_gets_us_east_1s_marked_as_such():
    prices = pricing.table("ap-southeast-3", ["nat_gateway_hour", "sagemaker:ml.c5.xlarge"])
    assert prices.usd("nat_gateway_hour") == 0.045
    assert prices.source("nat_gateway_hour") == (
        f"table of {pricing.TABLE_DATE} (us-east-1; us-east-1's price, ap-southeast-3 may cost up to ~25 % more)"
    )
    assert prices.source("sagemaker:ml.c5.xlarge").startswith("table of 2024 (us-east-1;")


def test_job_estimates_use_the_prices_they_are_given():
    prices = pricing.from_price_list(catalogue(), EU, ["sagemaker:ml.c5.xlarge"], today="2026-12-07")
    estimate = cost.estimate("ml.c5.xlarge", 2, 1.5, prices=prices)
    assert estimate["usd"] == pytest.approx(2 * 1.5 * 0.23)
    assert estimate["price_region"] == EU
    assert estimate["price_source"] == "AWS Price List API, read 2026-12-07"
    # Without prices: the checked-in us-east-1 table, offline (R's estimate_cost relies on that).
    assert cost.estimate("ml.c5.xlarge", 1, 1.0)["usd"] == pytest.approx(0.204)
