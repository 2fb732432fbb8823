"""Reading the desired state: Git (clone, fetch, branches, sub-directories), directories,
uploads and approved drafts. Bad sources are reported in words, never raised."""

from __future__ import annotations

import os
import stat
import textwrap

import pytest

from policies.models import Cluster, DesiredSource, PolicyDraft
from policies.services import drift
from tests.builders import demo_counts

from .conftest import by_name, demo_policies, git_source, policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def cluster(db):
    return Cluster.objects.create(name="c1", source=Cluster.Source.MANIFESTS, manifests_dir="/nonexistent")


def keys(state):
    return sorted(state.policies)


def test_git_source_is_cloned_into_the_git_dir_and_read(cluster, demo_repo, settings):
    source = git_source(cluster, demo_repo)
    state = drift.read_desired_state(cluster)
    assert state.problems == []
    assert keys(state) == sorted(f"{d['metadata']['namespace']}/{d['metadata']['name']}" for d in demo_policies())
    assert (settings.NETPOLUI_GIT_DIR / f"source-{source.pk}" / ".git").is_dir()
    source.refresh_from_db()
    assert source.revision == demo_repo.git("rev-parse", "HEAD").strip()
    assert source.last_fetched_at is not None
    assert source.last_error == ""
    # Each policy says where it came from, relative to the repository.
    assert state.policies["shop/allow-dns"].origin.startswith("policies/demo.yaml:")


def test_new_commits_are_fetched_on_the_next_read(cluster, demo_repo):
    git_source(cluster, demo_repo)
    drift.read_desired_state(cluster)
    docs = [d for d in demo_policies() if d["metadata"]["name"] != "allow-dns"]
    docs.append(policy("team-a", "deny-all", {"podSelector": {}}))
    demo_repo.write_docs("policies/demo.yaml", docs)
    head = demo_repo.commit("drop allow-dns, add team-a/deny-all")
    state = drift.read_desired_state(cluster)
    assert "shop/allow-dns" not in state.policies
    assert "team-a/deny-all" in state.policies
    assert state.sources[0]["revision"] == head


def test_a_history_rewritten_upstream_is_followed(cluster, demo_repo):
    git_source(cluster, demo_repo)
    drift.read_desired_state(cluster)
    demo_repo.write_docs("policies/demo.yaml", [policy("shop", "only", {"podSelector": {}})])
    demo_repo.git("commit", "--quiet", "--amend", "-am", "rewritten")
    assert keys(drift.read_desired_state(cluster)) == ["shop/only"]


def test_branch_and_sub_directory_choose_what_is_read(cluster, git_repo):
    repo = git_repo()
    repo.write_docs("clusters/prod/policies.yaml", [policy("shop", "prod-only", {"podSelector": {}})])
    repo.write_docs("clusters/staging/policies.yaml", [policy("shop", "staging-only", {"podSelector": {}})])
    repo.commit()
    repo.branch("next")
    repo.write_docs("clusters/prod/more.yaml", [policy("shop", "next-only", {"podSelector": {}})])
    repo.commit()
    repo.checkout("main")

    source = git_source(cluster, repo, subdirectory="clusters/prod")
    assert keys(drift.read_desired_state(cluster)) == ["shop/prod-only"]
    DesiredSource.objects.filter(pk=source.pk).update(branch="next")
    assert keys(drift.read_desired_state(cluster)) == ["shop/next-only", "shop/prod-only"]


def test_an_empty_branch_means_the_default_branch(cluster, demo_repo):
    git_source(cluster, demo_repo, branch="")
    state = drift.read_desired_state(cluster)
    assert state.problems == []
    assert "shop/allow-dns" in state.policies


def test_a_branch_that_does_not_exist_is_reported(cluster, demo_repo):
    git_source(cluster, demo_repo, branch="no-such-branch")
    state = drift.read_desired_state(cluster)
    assert state.fatal
    # The same words as every failure to fetch (no network mapping through messages).
    assert [p.message for p in state.problems] == [
        f"cannot fetch the Git repository …/{demo_repo.path.name} (branch 'no-such-branch'): the address, branch or credentials are wrong, or the host cannot be reached; the server log has the details"
    ]


def test_a_branch_deleted_after_the_clone_is_reported(cluster, demo_repo):
    demo_repo.branch("feature")
    demo_repo.commit("feature")
    git_source(cluster, demo_repo, branch="feature")
    assert not drift.read_desired_state(cluster).fatal
    demo_repo.checkout("main")
    demo_repo.git("branch", "--quiet", "-D", "feature")
    state = drift.read_desired_state(cluster)
    assert state.fatal
    assert "cannot fetch the Git repository" in state.problems[0].message
    assert "(branch 'feature')" in state.problems[0].message


def test_an_unreachable_repository_is_reported(cluster, tmp_path):
    DesiredSource.objects.create(cluster=cluster, kind="git", location=str(tmp_path / "nowhere"))
    DesiredSource.objects.create(cluster=cluster, kind="git", location="http://127.0.0.1:9/repo.git")
    state = drift.read_desired_state(cluster)
    assert state.fatal
    messages = [p.message for p in state.problems]
    assert messages == [
        "cannot fetch the Git repository …/nowhere: the address, branch or credentials are wrong, or the host cannot be reached; the server log has the details",
        "cannot fetch the Git repository http://127.0.0.1:9/repo.git: the address, branch or credentials are wrong, or the host cannot be reached; the server log has the details",
    ]


def test_a_hanging_git_is_cut_by_the_timeout(cluster, tmp_path, settings, monkeypatch):
    # A git that never answers (a server that accepts and stays silent): a fake `git`
    # first on PATH that sleeps stands for it.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    script = fake_bin / "git"
    script.write_text("#!/bin/sh\nsleep 30 &\nsleep 30\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    settings.NETPOLUI_GIT_TIMEOUT = 1
    DesiredSource.objects.create(cluster=cluster, kind="git", location="https://git.example/repo.git")
    state = drift.read_desired_state(cluster)
    assert [p.message for p in state.problems] == [
        "cannot fetch the Git repository https://git.example/repo.git: the address, branch or credentials are wrong, or the host cannot be reached; the server log has the details"
    ]


def test_git_never_prompts_for_a_password(cluster, monkeypatch):
    monkeypatch.delenv("GIT_ASKPASS", raising=False)
    env = drift.git._git_env()
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert "BatchMode=yes" in env["GIT_SSH_COMMAND"]


def test_credentials_in_a_url_never_reach_messages(cluster):
    source = DesiredSource.objects.create(
        cluster=cluster, kind="git", location="http://alice:s3cret-token@127.0.0.1:9/repo.git"
    )
    state = drift.read_desired_state(cluster)
    text = " ".join(str(p) for p in state.problems) + source.label + state.sources[0]["label"]
    assert "s3cret-token" not in text
    source.refresh_from_db()
    assert "s3cret-token" not in source.last_error
    assert "http://***@127.0.0.1:9/repo.git" in state.problems[0].message


def test_invalid_yaml_in_the_repository_names_file_and_line(cluster, demo_repo):
    demo_repo.write("policies/broken.yaml", textwrap.dedent("""\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: broken
          namespace: shop
        spec:
          podSelector: {matchLabels: {app: web}
        """))
    demo_repo.commit("a typo")
    git_source(cluster, demo_repo)
    state = drift.read_desired_state(cluster)
    assert not state.fatal  # the other files still count
    [problem] = state.problems
    assert problem.file == "policies/broken.yaml"
    assert problem.line == 8
    assert "invalid YAML" in problem.message
    assert str(problem).startswith("policies/broken.yaml:8: invalid YAML")
    assert "shop/allow-dns" in state.policies


def test_a_policy_the_api_server_would_reject_is_reported_and_left_out(cluster, demo_repo):
    docs = demo_policies()
    by_name(docs, "database-policy")["spec"]["ingress"][0]["ports"][0].update(port=5432, endPort=5000)
    demo_repo.write_docs("policies/demo.yaml", docs)
    demo_repo.commit("endPort below port")
    git_source(cluster, demo_repo)
    state = drift.read_desired_state(cluster)
    [problem] = state.problems
    assert problem.message == (
        "NetworkPolicy shop/database-policy: spec.ingress[0].ports[0].endPort 5000 is below port 5432"
    )
    assert problem.file == "policies/demo.yaml"
    text = (demo_repo.path / "policies/demo.yaml").read_text().splitlines()
    assert text[problem.line - 1].strip() == "endPort: 5000"
    assert "shop/database-policy" not in state.policies
    assert "shop/database-policy" in state.ignored  # so the live one is not called extra


def test_a_policy_defined_twice_is_reported(cluster, git_repo):
    repo = git_repo()
    repo.write_docs("a.yaml", [policy("shop", "web", {"podSelector": {}})])
    repo.write_docs("b.yaml", [policy("shop", "web", {"podSelector": {"matchLabels": {"app": "web"}}})])
    repo.commit()
    git_source(cluster, repo, subdirectory="")
    state = drift.read_desired_state(cluster)
    assert [p.message for p in state.problems] == [
        "NetworkPolicy shop/web is defined twice (a.yaml:1 and b.yaml:1); the later one is used"
    ]
    assert state.policies["shop/web"].obj["spec"]["podSelector"] == {"matchLabels": {"app": "web"}}


def test_a_missing_sub_directory_is_reported(cluster, demo_repo):
    git_source(cluster, demo_repo, subdirectory="clusters/prod")
    state = drift.read_desired_state(cluster)
    assert state.fatal
    assert state.problems[0].message.startswith(f"sub-directory 'clusters/prod' does not exist in …/{demo_repo.path.name} at commit ")


def test_other_kinds_are_skipped(cluster, git_repo):
    repo = git_repo()
    repo.write("all.yaml", textwrap.dedent("""\
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings, namespace: shop}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: deny, namespace: shop}
        spec: {podSelector: {}}
        """))
    repo.commit()
    git_source(cluster, repo, subdirectory="")
    state = drift.read_desired_state(cluster)
    assert keys(state) == ["shop/deny"]
    assert state.problems == []


def test_directory_source(cluster, tmp_path):
    (tmp_path / "manifests" / "shop").mkdir(parents=True)
    (tmp_path / "manifests" / "shop" / "deny.yaml").write_text(
        "kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: deny}\nspec: {podSelector: {}}\n"
    )
    DesiredSource.objects.create(cluster=cluster, kind="directory", location=str(tmp_path / "manifests"))
    state = drift.read_desired_state(cluster)
    # No namespace in the manifest: `default`, and spelled out for the export.
    assert keys(state) == ["default/deny"]
    assert state.policies["default/deny"].obj["metadata"]["namespace"] == "default"
    assert state.policies["default/deny"].origin == "shop/deny.yaml:1"


def test_a_missing_directory_is_reported(cluster, tmp_path):
    DesiredSource.objects.create(cluster=cluster, kind="directory", location=str(tmp_path / "gone"))
    state = drift.read_desired_state(cluster)
    assert state.fatal
    assert state.problems[0].message == "the directory does not exist"


def test_upload_source(cluster):
    text = "\n---\n".join([
        "kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: a, namespace: shop}\nspec: {podSelector: {}}",
        "kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: b, namespace: shop}\n"
        "spec: {podSelector: {}, ingress: [{ports: [{port: 0}]}]}",
    ])
    DesiredSource.objects.create(cluster=cluster, kind="upload", yaml_text=text, file_name="wanted.yaml")
    state = drift.read_desired_state(cluster)
    assert keys(state) == ["shop/a"]
    [problem] = state.problems
    assert problem.file == "wanted.yaml, document 2"
    assert "spec.ingress[0].ports[0].port" in problem.message


def test_an_unparsable_upload_is_reported_with_its_line(cluster):
    DesiredSource.objects.create(cluster=cluster, kind="upload", yaml_text="a: 1\nb: [\n", file_name="bad.yaml")
    state = drift.read_desired_state(cluster)
    assert state.fatal
    assert state.problems[0].message.startswith("bad.yaml:3: invalid YAML")


def test_approved_drafts_are_a_source_and_unapproved_ones_are_not(cluster):
    PolicyDraft.objects.create(cluster=cluster, namespace="shop", name="approved",
                               obj=policy("shop", "approved", {"podSelector": {}}), status="approved", revision=3)
    PolicyDraft.objects.create(cluster=cluster, namespace="shop", name="wip",
                               obj=policy("shop", "wip", {"podSelector": {}}), status="draft")
    DesiredSource.objects.create(cluster=cluster, kind="drafts")
    state = drift.read_desired_state(cluster)
    assert keys(state) == ["shop/approved"]
    assert state.policies["shop/approved"].origin == "approved draft shop/approved (revision 3)"


def test_sources_combine_and_the_first_wins_a_conflict(cluster, demo_repo):
    PolicyDraft.objects.create(cluster=cluster, namespace="shop", name="allow-dns",
                               obj=policy("shop", "allow-dns", {"podSelector": {}}), status="approved")
    PolicyDraft.objects.create(cluster=cluster, namespace="team-a", name="deny-all",
                               obj=policy("team-a", "deny-all", {"podSelector": {}}), status="approved")
    git_source(cluster, demo_repo)
    DesiredSource.objects.create(cluster=cluster, kind="drafts")
    state = drift.read_desired_state(cluster)
    assert "team-a/deny-all" in state.policies
    assert state.policies["shop/allow-dns"].origin.startswith("policies/demo.yaml")
    assert [p.message for p in state.problems] == [
        f"NetworkPolicy shop/allow-dns is also defined by repository …/{demo_repo.path.name}@main (policies/); that definition is used"
    ]


def test_a_source_with_namespaces_speaks_only_for_them(cluster, demo_repo):
    git_source(cluster, demo_repo, namespaces="shop")
    state = drift.read_desired_state(cluster)
    assert {k.split("/")[0] for k in state.policies} == {"shop"}
    assert state.scope == frozenset({"shop"})
    assert state.covers("shop")
    assert not state.covers("payments")
    assert state.sources[0]["skipped"] == demo_counts()["policies_outside_shop"]


def test_disabled_sources_are_left_out(cluster, demo_repo):
    git_source(cluster, demo_repo, enabled=False)
    with pytest.raises(drift.NoSources):
        drift.run_drift(cluster)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"kind": "git", "location": ""}, "location", "give the repository URL or path"),
        ({"kind": "git", "location": "ext::sh -c touch% /tmp/x"}, "location", "must be an https://"),
        ({"kind": "git", "location": "--upload-pack=touch /tmp/x"}, "location", "must not start with '-'"),
        ({"kind": "git", "location": "/srv/repo"}, "location", "only an admin may read"),
        ({"kind": "git", "location": "https://git.example/r.git", "branch": "--force"}, "branch", "is not a valid branch"),
        ({"kind": "git", "location": "https://git.example/r.git", "subdirectory": "../.."}, "subdirectory", "must be a relative path"),
        ({"kind": "directory", "location": "/srv/policies"}, "location", "only an admin may read"),
        ({"kind": "upload", "yaml_text": "a: 1\n  b: 2\n"}, "yaml_text", "line 2: invalid YAML"),
        ({"kind": "upload", "yaml_text": ""}, "yaml_text", "upload a YAML file"),
        ({"kind": "drafts", "namespaces": "shop,Bad_NS"}, "namespaces", "'Bad_NS' is not a namespace name"),
    ],
)
def test_source_settings_are_checked_in_words(cluster, fields, field, message):
    errors = drift.check_source(cluster=cluster, **fields)
    assert message in errors[field]


def test_admins_may_read_the_servers_file_system(cluster, settings):
    settings.NETPOLUI_GIT_SSH = True
    assert drift.check_source(cluster=cluster, kind="git", location="/srv/repo", is_admin=True) == {}
    assert drift.check_source(cluster=cluster, kind="directory", location="/srv/policies", is_admin=True) == {}
    assert drift.check_source(cluster=cluster, kind="git", location="https://git.example/r.git") == {}
    assert drift.check_source(cluster=cluster, kind="git", location="git@github.com:org/policies.git") == {}
