"""The job-config SSM parameter carries exactly the contract's keys (docs/contracts.md section 3)."""

from __future__ import annotations

import json
import re

from tests.conftest import ROOT
from tests.infra.helpers import one, rendered_json


def _contract_keys() -> set[str]:
    text = (ROOT / "docs" / "contracts.md").read_text()
    section = text.split("## 3.", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, re.S).group(1)
    return set(json.loads(block))


def _parameter(synthesized) -> dict:
    return one(synthesized.template_json["jobs"], "AWS::SSM::Parameter", "JobsJobConfig")[1]["Properties"]


def test_one_string_parameter_under_the_platform_name(synthesized):
    props = _parameter(synthesized)
    assert props["Name"] == f"/{synthesized.settings.platform_name}/job-config"
    assert props["Type"] == "String"


def test_job_config_has_exactly_the_contract_keys_and_values(synthesized):
    settings = synthesized.settings
    config = rendered_json(_parameter(synthesized)["Value"])
    assert set(config) == _contract_keys()
    assert config["platform"] == settings.platform_name
    assert config["allowed_instance_types"] == list(settings.job_instance_types)
    assert config["default_instance_type"] == settings.job_default_instance_type
    assert config["max_instances"] == settings.job_max_instances
    assert config["max_runtime_seconds"] == settings.job_max_runtime_seconds
    assert config["log_group"] == "/aws/sagemaker/ProcessingJobs"
    assert config["subnet_ids"] == ["TOKEN", "TOKEN"]
    assert config["security_group_ids"] == ["TOKEN"]
    assert config["image_uri"].endswith(":" + _image_hash(synthesized))


def _image_hash(synthesized) -> str:
    manifest = json.loads((synthesized.cdk_out / "simlab-jobs.assets.json").read_text())
    (asset_hash,) = manifest["dockerImages"]
    return asset_hash


def test_every_field_is_also_a_stack_output(synthesized):
    outputs = {}
    for template in synthesized.template_json.values():
        outputs.update(template.get("Outputs", {}))
    for key in _contract_keys():
        name = "".join(part.capitalize() for part in key.split("_"))
        assert name in outputs, f"no output for job-config field {key}"
