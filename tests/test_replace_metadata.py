"""The replacement metadata the offline diff uses: coverage, upstream spot checks, reproducibility."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tools import replace_rules
from tools.replace_metadata import generate

REPO = Path(__file__).resolve().parents[1]
DATA = json.loads(replace_rules.DATA.read_text())
PREVIEWS = sorted((REPO / "build").glob("preview-*.json"))

MIRROR = Path(os.environ.get("REPLACE_METADATA_MIRROR", "/work/.mirror"))
CACHE = Path(os.environ.get("REPLACE_METADATA_CACHE", "/work/.cache/replace-metadata"))
TF_INDEX = MIRROR / "lonegunmanb+terraform-provider-aws-index" / "repo"
ATTR_CSV = CACHE / "hashicorp+terraform-provider-aws" / "names" / "attr_constants.csv"
K8S = MIRROR / "pulumi+pulumi-kubernetes" / "repo"
EKS = MIRROR / "pulumi+pulumi-eks" / "repo"


def _preview_types() -> dict[str, bool]:
    return generate.preview_types(PREVIEWS)


def test_previews_exist():
    assert PREVIEWS, "build/preview-*.json are the shipped previews this data must cover"


def test_every_previewed_type_has_an_entry():
    types = _preview_types()
    missing = sorted(set(types) - replace_rules.known_types())
    assert not missing, f"no replacement metadata for {missing}: add them to tools/replace_metadata/generate.py"


def test_empty_entries_are_explained():
    for token, paths in DATA["types"].items():
        if not paths:
            assert DATA["notes"].get(token), f"{token}: an empty list needs a recorded reason"


def test_every_aws_type_names_its_upstream_schema():
    for token in DATA["types"]:
        if token.startswith("aws:"):
            prov = DATA["provenance"][token]
            assert prov["terraform"].startswith("aws_") and prov["schema"].endswith((".goindex", ".go"))


@pytest.mark.parametrize("token,path", [
    ("aws:ec2/vpc:Vpc", "cidrBlock"),
    ("aws:ec2/subnet:Subnet", "availabilityZone"),
    ("aws:ec2/subnet:Subnet", "vpcId"),
    ("aws:eks/nodeGroup:NodeGroup", "instanceTypes"),
    ("aws:eks/nodeGroup:NodeGroup", "subnetIds"),
    ("aws:eks/nodeGroup:NodeGroup", "launchTemplate.name"),
    ("aws:eks/cluster:Cluster", "name"),
    ("aws:eks/cluster:Cluster", "kubernetesNetworkConfig.serviceIpv4Cidr"),
    ("eks:index:Cluster", "name"),
    ("eks:index:Cluster", "kubernetesServiceIpAddressRange"),
    ("aws:ec2/launchTemplate:LaunchTemplate", "name"),
    ("aws:kms/key:Key", "customerMasterKeySpec"),
    ("aws:kms/key:Key", "keyUsage"),
    ("aws:iam/role:Role", "name"),
    ("kubernetes:helm.sh/v3:Release", "name"),
    ("kubernetes:helm.sh/v3:Release", "namespace"),
    ("kubernetes:core/v1:ConfigMap", "metadata.name"),
    ("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "roleRef"),
])
def test_upstream_replacing_paths(token, path):
    assert path in replace_rules.replace_paths(token)


@pytest.mark.parametrize("token,path", [
    # terraform-provider-aws updates these in place (UpdateClusterConfig / UpdateNodegroupConfig, ...)
    ("aws:eks/cluster:Cluster", "vpcConfig.subnetIds"),
    ("aws:eks/cluster:Cluster", "version"),
    ("aws:eks/nodeGroup:NodeGroup", "scalingConfig"),
    ("aws:ec2/launchTemplate:LaunchTemplate", "userData"),
    ("eks:index:Cluster", "privateSubnetIds"),
    ("eks:index:Cluster", "version"),
    # value-dependent: listed under `conditional`, not in the unconditional set
    ("aws:ec2/vpc:Vpc", "instanceTenancy"),
    ("kubernetes:core/v1:ConfigMap", "data"),
])
def test_in_place_or_conditional_paths_are_not_unconditional(token, path):
    assert path not in replace_rules.replace_paths(token)


def test_conditional_paths():
    assert "instanceTenancy" in replace_rules.replace_paths("aws:ec2/vpc:Vpc", conditional=True)
    assert "encryptionConfigKeyArn" in replace_rules.conditional_paths("eks:index:Cluster")
    assert {"data", "binaryData"} <= set(replace_rules.conditional_paths("kubernetes:core/v1:ConfigMap"))
    assert "region" in replace_rules.conditional_paths("aws:ec2/subnet:Subnet")
    assert "region" not in replace_rules.conditional_paths("aws:iam/role:Role")  # IAM is global


def test_replace_keys_are_top_level():
    keys = replace_rules.replace_keys("aws:eks/nodeGroup:NodeGroup")
    assert {"launchTemplate", "remoteAccess", "instanceTypes"} <= keys
    assert all("." not in k for k in keys)
    assert replace_rules.replace_keys("aws:not/a:Type") == set()
    assert "scalingConfig" not in keys


def test_source_records_versions_and_licences():
    src = DATA["source"]
    assert src["pulumi-aws"]["pinned"] == metadata.version("pulumi_aws")
    assert src["pulumi-kubernetes"]["pinned"] == metadata.version("pulumi_kubernetes")
    assert src["pulumi-eks"]["pinned"] == metadata.version("pulumi_eks")
    assert src["terraform-provider-aws"]["licence"].startswith("MPL-2.0")
    for key in ("terraform-provider-aws", "pulumi-kubernetes", "pulumi-eks"):
        assert len(src[key]["commit"]) == 40


def _checkouts_present() -> bool:
    def has(git_dir: Path, ref: str) -> bool:
        return git_dir.is_dir() and subprocess.run(["git", "--git-dir", str(git_dir), "rev-parse", "--verify", "-q",
                                                    f"{ref}^{{commit}}"], capture_output=True).returncode == 0
    src = DATA["source"]
    return (ATTR_CSV.exists() and has(TF_INDEX, src["terraform-provider-aws"]["commit"])
            and has(K8S, src["pulumi-kubernetes"]["commit"]) and has(EKS, src["pulumi-eks"]["commit"]))


@pytest.mark.skipif(not _checkouts_present(), reason="upstream checkouts (fetched snapshots) not on this machine")
def test_generator_reproduces_committed_json(tmp_path):
    src = DATA["source"]
    out = tmp_path / "replace_on.json"
    cmd = [sys.executable, "-m", "tools.replace_metadata.generate",
           "--tf-source", str(TF_INDEX), "--tf-ref", src["terraform-provider-aws"]["ref"],
           "--tf-attr-names", str(ATTR_CSV),
           "--pulumi-kubernetes", str(K8S), "--kubernetes-ref", src["pulumi-kubernetes"]["commit"],
           "--pulumi-eks", str(EKS), "--eks-ref", src["pulumi-eks"]["commit"],
           "--preview", *map(str, PREVIEWS), "--out", str(out)]
    res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert out.read_bytes() == replace_rules.DATA.read_bytes()
