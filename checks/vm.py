"""VM instance controls (VM-01..VM-09: CIS 4.1-4.8 and 4.11), one result per instance.

Each judge reads one instance as Compute's aggregated listing returns it; the three that
depend on metadata an instance may inherit (VM-03 OS Login as the reason project-wide keys
do not matter, VM-04, VM-05) also read the project's common instance metadata (the
computeProject kind), resolved as Compute resolves it: the instance's own key wins, the
project's applies otherwise (`checks.rules.instances`). A field that cannot be read is that
instance's `error`, naming the field; GKE nodes are left out where CIS leaves them out.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.kernel import JSON, Judge, Judgement, Unjudgeable, per_resource
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import References, control
from checks.rules.instances import (
    DEFAULT_ACCOUNT,
    FULL_ACCESS,
    boolean,
    family,
    flag,
    is_gke_node,
    matches,
    metadata_items,
    project_metadata,
    resolve,
    service_accounts,
)
from checks.snapshot import Kind, Snapshot

OS_LOGIN, SERIAL, BLOCK_KEYS = "enable-oslogin", "serial-port-enable", "block-project-ssh-keys"
#: the confidentialInstanceType values (compute v1) that make a VM confidential
CONFIDENTIAL_TYPES = frozenset({"SEV", "SEV_SNP", "TDX", "CCA", "BMSAI"})
_UNSPECIFIED = "CONFIDENTIAL_INSTANCE_TYPE_UNSPECIFIED"
_GKE = "GKE nodes (named `gke-…` and labelled `goog-gke-node`) are out of scope, as CIS excludes them"


def _instances(snapshot: Snapshot, judge: Judge[JSON]) -> Iterator[Finding]:
    return per_resource(snapshot.get(Kind.INSTANCES), snapshot.scope, "instances", "instance", judge)


# --- identity: VM-01, VM-02 ------------------------------------------------------------------------


@control(
    id="VM-01", title="VMs do not run as the default Compute Engine service account", area=Area.VM,
    severity=Severity.MEDIUM, kinds=(Kind.INSTANCES,), unit="instance",
    references=References(cis=(("4.0", "4.1"), ("5.0", "4.1")), soc2=("CC6.1", "CC6.3"),
                          sha="DEFAULT_SERVICE_ACCOUNT_USED"),
    rationale="The default Compute Engine service account is granted Editor on its project when it is "
    "created: every process on a VM running as it can change almost anything in the project. A VM should "
    "run as an account of its own holding only the roles its workload needs.",
    remediation="Stop the VM, attach a dedicated service account, start it: `gcloud compute instances stop VM "
    "--zone=ZONE && gcloud compute instances set-service-account VM --zone=ZONE --service-account=SA_EMAIL "
    "&& gcloud compute instances start VM --zone=ZONE`; stop the Editor grant for new projects with the "
    "organisation policy `iam.automaticIamGrantsForDefaultServiceAccounts`.",
    holds="The instance runs as no default Compute Engine service account.",
    logic="Each entry of `serviceAccounts[]` is read by its `email`; an email of the form "
    "`NUMBER-compute@developer.gserviceaccount.com` (any project's default account) fails the instance, "
    "naming it. No entry (or no `serviceAccounts`) passes: the VM has no Google identity. " + _GKE + ".",
    unknown="error naming the field: `serviceAccounts` not a list, an entry without an `email`, `scopes` not "
    "a list of strings.",
)
def vm01_default_service_account(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an instance (not a GKE node) whose attached account is a default Compute Engine account."""

    def judge(instance: JSON, who: str) -> Judgement | None:
        if is_gke_node(instance):
            return None
        accounts = [email for email, _ in service_accounts(instance)]
        default = [email for email in accounts if DEFAULT_ACCOUNT.match(email)]
        if default:
            return Judgement(Verdict.FAIL, f"{who} runs as the default Compute Engine service account {default[0]}",
                             default[0])  # fmt: skip
        if accounts:
            return Judgement(Verdict.PASS, f"{who} runs as {accounts[0]}", accounts[0])
        return Judgement(Verdict.PASS, f"{who} runs as no service account")

    return _instances(snapshot, judge)


@control(
    id="VM-02", title="No VM runs as the default service account with full access to all Cloud APIs",
    area=Area.VM, severity=Severity.HIGH, kinds=(Kind.INSTANCES,), unit="instance",
    references=References(cis=(("4.0", "4.2"), ("5.0", "4.2")), soc2=("CC6.1", "CC6.3"), sha="FULL_API_ACCESS"),
    rationale="The default account holds Editor; with the `cloud-platform` scope nothing but IAM limits what "
    "a token taken from the VM's metadata server can do, so anyone who runs code on the VM can act as an "
    "editor of the project.",
    remediation="Stop the VM and narrow its scopes, or better give it its own account: `gcloud compute "
    "instances set-service-account VM --zone=ZONE --service-account=SA_EMAIL --scopes=SCOPES`.",
    holds="The instance does not run as a default Compute Engine service account with the cloud-platform scope.",
    logic="Fails when an entry of `serviceAccounts[]` has an `email` of the form "
    "`NUMBER-compute@developer.gserviceaccount.com` and its `scopes` hold "
    "`https://www.googleapis.com/auth/cloud-platform`; the default account with narrower scopes, any other "
    "account whatever its scopes (IAM governs it), and no account pass. `scopes` absent: no scope. "
    + _GKE + ".",
    unknown="error naming the field: `serviceAccounts` not a list, an entry without an `email`, `scopes` not "
    "a list of strings.",
)
def vm02_full_api_access(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an instance (not a GKE node) running as a default account with the cloud-platform scope."""

    def judge(instance: JSON, who: str) -> Judgement | None:
        if is_gke_node(instance):
            return None
        accounts = service_accounts(instance)
        for email, scopes in accounts:
            if DEFAULT_ACCOUNT.match(email) and FULL_ACCESS in scopes:
                reason = f"{who} runs as the default service account {email} with full access to all Cloud APIs"
                return Judgement(Verdict.FAIL, f"{reason} (scope cloud-platform)", email)
        for email, scopes in accounts:
            if DEFAULT_ACCOUNT.match(email):
                return Judgement(Verdict.PASS, f"{who} runs as the default service account {email} with "
                                 f"{len(scopes)} narrower scope(s), not cloud-platform", email)  # fmt: skip
        if accounts:
            return Judgement(Verdict.PASS, f"{who} runs as {accounts[0][0]}, not a default service account",
                             accounts[0][0])  # fmt: skip
        return Judgement(Verdict.PASS, f"{who} runs as no service account")

    return _instances(snapshot, judge)


# --- access: VM-03, VM-04, VM-05 -------------------------------------------------------------------

_RESOLVED = ("Compute resolves a metadata key the instance does not set from the project's "
             "`commonInstanceMetadata.items`; values are read case-insensitively, `true`/`1` on and "
             "`false`/`0` off.")  # fmt: skip
_META_UNKNOWN = ("error naming the field: `metadata` or `metadata.items` not of their shape, an entry without "
                 "a string `key` and `value`, a key set twice, a value that is neither true nor false; when the "
                 "instance does not set the key, the same of the project's `commonInstanceMetadata` (absent "
                 "included), and the whole control is `error` when the computeProject kind was not read.")


@control(
    id="VM-03", title="VMs block project-wide SSH keys", area=Area.VM, severity=Severity.MEDIUM,
    kinds=(Kind.INSTANCES, Kind.COMPUTE_PROJECT), unit="instance",
    references=References(cis=(("4.0", "4.3"), ("5.0", "4.3")), soc2=("CC6.1",),
                          sha="COMPUTE_PROJECT_WIDE_SSH_KEYS_ALLOWED"),
    rationale="An SSH key in project metadata opens every VM of the project that accepts it: one leaked key "
    "is a key to all of them. Blocking project-wide keys confines each key to the VMs it was given for. With "
    "OS Login on, the guest ignores metadata keys altogether, so blocking them is not needed (CIS says so too).",
    remediation="`gcloud compute instances add-metadata VM --zone=ZONE --metadata=block-project-ssh-keys=TRUE`, "
    "or turn OS Login on (VM-04).",
    holds="The instance accepts no SSH key from project metadata.",
    logic="Passes when the instance's own metadata sets `block-project-ssh-keys` true (the key has no "
    "project-level meaning: only the instance's counts; absent means false), or else when OS Login is on "
    "for it as VM-04 resolves it (metadata SSH keys are then ignored); fails otherwise. " + _RESOLVED,
    unknown=_META_UNKNOWN,
)
def vm03_project_ssh_keys(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an instance that neither blocks project-wide SSH keys nor has OS Login on."""
    project = project_metadata(snapshot.get(Kind.COMPUTE_PROJECT))

    def judge(instance: JSON, who: str) -> Judgement:
        own = metadata_items(instance, "metadata")
        blocked = flag(own[BLOCK_KEYS], f"metadata {BLOCK_KEYS}") if BLOCK_KEYS in own else False
        if blocked:
            return Judgement(Verdict.PASS, f"{who} blocks project-wide SSH keys ({BLOCK_KEYS}={own[BLOCK_KEYS]})")
        block = f"{BLOCK_KEYS}={own[BLOCK_KEYS]}" if BLOCK_KEYS in own else f"{BLOCK_KEYS} not set"
        login = resolve(instance, project, OS_LOGIN, False)
        if login.on:
            return Judgement(Verdict.PASS, f"{who} does not block project-wide SSH keys ({block}), but OS Login is "
                             f"on ({login.source}): metadata SSH keys are ignored")  # fmt: skip
        return Judgement(Verdict.FAIL, f"{who} accepts project-wide SSH keys: {block}, and OS Login is off "
                         f"({login.source})")  # fmt: skip

    return _instances(snapshot, judge)


@control(
    id="VM-04", title="OS Login is on for every VM", area=Area.VM, severity=Severity.MEDIUM,
    kinds=(Kind.INSTANCES, Kind.COMPUTE_PROJECT), unit="instance",
    references=References(cis=(("4.0", "4.4"), ("5.0", "4.4")), soc2=("CC6.1", "CC6.2"), sha="OS_LOGIN_DISABLED"),
    rationale="OS Login ties SSH access to IAM identities: removing a person's IAM access removes their SSH "
    "access to every VM, with no key left behind in metadata. CIS asks for it on the project and for no "
    "instance to turn it off; judging each instance's resolved setting covers both.",
    remediation="`gcloud compute project-info add-metadata --metadata=enable-oslogin=TRUE`, then remove the "
    "instances' overrides: `gcloud compute instances remove-metadata VM --zone=ZONE --keys=enable-oslogin`; "
    "enforce with the organisation policy `compute.requireOsLogin` (ORG-03).",
    holds="OS Login is on for the instance, as Compute resolves `enable-oslogin`.",
    logic="`enable-oslogin` from the instance's `metadata.items` if it sets it, else from the project's "
    "`commonInstanceMetadata.items`, else off (Google's default): on passes, off fails, naming where the "
    "value came from. " + _RESOLVED + " " + _GKE + ". The organisation policy `compute.requireOsLogin` is "
    "ORG-03's to judge.",
    unknown=_META_UNKNOWN,
)
def vm04_os_login(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an instance (not a GKE node) for which `enable-oslogin` resolves to off."""
    project = project_metadata(snapshot.get(Kind.COMPUTE_PROJECT))

    def judge(instance: JSON, who: str) -> Judgement | None:
        if is_gke_node(instance):
            return None
        login = resolve(instance, project, OS_LOGIN, False)
        state = "on" if login.on else "off"
        return Judgement(Verdict.PASS if login.on else Verdict.FAIL, f"{who} has OS Login {state} ({login.source})")

    return _instances(snapshot, judge)


@control(
    id="VM-05", title="No VM accepts interactive serial console connections", area=Area.VM,
    severity=Severity.MEDIUM, kinds=(Kind.INSTANCES, Kind.COMPUTE_PROJECT), unit="instance",
    references=References(cis=(("4.0", "4.5"), ("5.0", "4.5")), soc2=("CC6.1", "CC6.6"),
                          sha="COMPUTE_SERIAL_PORTS_ENABLED"),
    rationale="The interactive serial console takes connections from any IP address: no firewall rule or "
    "network restriction applies to it, only an SSH key and the VM's name. CIS audits the instance's key; "
    "a project-wide `serial-port-enable` opens every VM that does not override it, so it is resolved too.",
    remediation="`gcloud compute instances add-metadata VM --zone=ZONE --metadata=serial-port-enable=FALSE` "
    "(and remove it from project metadata: `gcloud compute project-info remove-metadata "
    "--keys=serial-port-enable`); enforce with the organisation policy `compute.disableSerialPortAccess`.",
    holds="The interactive serial console is off for the instance, as Compute resolves `serial-port-enable`.",
    logic="`serial-port-enable` from the instance's `metadata.items` if it sets it, else from the project's "
    "`commonInstanceMetadata.items`, else off (Google's default): on fails, off passes. " + _RESOLVED
    + " The organisation policy `compute.disableSerialPortAccess`, which blocks the console whatever the "
    "metadata says, is not read: a VM the policy protects but whose metadata turns the console on fails.",
    unknown=_META_UNKNOWN,
)
def vm05_serial_port(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an instance for which `serial-port-enable` resolves to on."""
    project = project_metadata(snapshot.get(Kind.COMPUTE_PROJECT))

    def judge(instance: JSON, who: str) -> Judgement:
        serial = resolve(instance, project, SERIAL, False)
        if serial.on:
            return Judgement(Verdict.FAIL, f"{who} accepts interactive serial console connections ({serial.source})")
        return Judgement(Verdict.PASS, f"{who} has the interactive serial console off ({serial.source})")

    return _instances(snapshot, judge)


# --- network, disks, platform: VM-06..VM-09 --------------------------------------------------------


@control(
    id="VM-06", title="No VM forwards IP packets", area=Area.VM, severity=Severity.MEDIUM,
    kinds=(Kind.INSTANCES,), unit="instance",
    references=References(cis=(("4.0", "4.6"), ("5.0", "4.6")), soc2=("CC6.6",), sha="IP_FORWARDING_ENABLED"),
    rationale="A VM that may send and receive packets whose addresses are not its own can route traffic "
    "around firewall rules and impersonate other addresses. Only a VM built to be a router (a NAT or "
    "appliance) needs it, and such an exception should be accepted explicitly.",
    remediation="Recreate the VM without IP forwarding, or update it: `gcloud compute instances export VM "
    "--zone=ZONE --destination=vm.yaml`, set `canIpForward: false`, then `gcloud compute instances "
    "update-from-file VM --zone=ZONE --source=vm.yaml --most-disruptive-allowed-action=REFRESH`; enforce with "
    "the organisation policy `compute.vmCanIpForward`.",
    holds="The instance does not forward IP packets.",
    logic="`canIpForward` true fails; false passes, and so does its absence (the API's default is false). "
    + _GKE + " (they must forward).",
    unknown="error naming `canIpForward` when it is not a boolean.",
)
def vm06_ip_forwarding(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an instance (not a GKE node) with `canIpForward: true`."""

    def judge(instance: JSON, who: str) -> Judgement | None:
        if is_gke_node(instance):
            return None
        absent = "canIpForward" not in instance
        if boolean(instance, "canIpForward", "canIpForward", default=False):
            return Judgement(Verdict.FAIL, f"{who} forwards IP packets (canIpForward: true)")
        return Judgement(Verdict.PASS, f"{who} does not forward IP packets "
                         f"({'canIpForward absent: false' if absent else 'canIpForward: false'})")  # fmt: skip

    return _instances(snapshot, judge)


def _disk_key(disk: JSON, where: str) -> str | None:
    """How a disk is encrypted with a key of the customer's (`CSEK`, `CMEK key`), or None: Google's own key."""
    key = disk.get("diskEncryptionKey")
    if key is None:
        return None
    if not isinstance(key, dict):
        raise Unjudgeable(f"{where}.diskEncryptionKey", f"{key!r} is not an object")
    for field in ("sha256", "kmsKeyName"):
        value = key.get(field)
        if value is not None and (not isinstance(value, str) or not value):
            raise Unjudgeable(f"{where}.diskEncryptionKey.{field}", f"{value!r} is not a string")
    if key.get("sha256"):
        return "CSEK"
    if key.get("kmsKeyName"):
        return f"CMEK {key['kmsKeyName']}"
    return None


@control(
    id="VM-07", title="Critical VMs' disks are encrypted with customer keys", area=Area.VM,
    severity=Severity.MEDIUM, kinds=(Kind.INSTANCES,), params=("compute.critical_selector",), unit="instance",
    references=References(cis=(("4.0", "4.7"), ("5.0", "4.7")), soc2=("CC6.1",), sha="DISK_CSEK_DISABLED"),
    rationale="With a key the customer holds, Google cannot read the disk without it and destroying or "
    "disabling the key makes the data unreadable. CIS asks for customer-supplied keys (CSEK); Google's "
    "current API marks CSEK deprecated and points to customer-managed keys in Cloud KMS (CMEK), so, "
    "following the API, a CMEK-encrypted disk passes as well as a CSEK one.",
    remediation="A disk cannot be re-keyed in place: snapshot it and create a new disk with a key, e.g. "
    "`gcloud compute disks create DISK --zone=ZONE --source-snapshot=SNAP --kms-key=projects/P/locations/L/"
    "keyRings/R/cryptoKeys/K`, then swap it in.",
    holds="Every persistent disk attached to a critical instance is encrypted with a customer key (CSEK or CMEK).",
    logic="In scope: instances whose `labels` hold every equality of `compute.critical_selector` (empty, the "
    "default: every instance). Each `disks[]` entry of type other than `SCRATCH` (local SSDs take no customer "
    "key) is read by its `diskEncryptionKey`: a non-empty `sha256` is CSEK, a non-empty `kmsKeyName` is CMEK, "
    "no `diskEncryptionKey` (or neither field) is Google's default encryption and fails the instance, naming "
    "the disks (`deviceName`). An instance with no persistent disk gets no result.",
    unknown="error naming the field: `disks` absent or not a list, an entry not an object, a "
    "`diskEncryptionKey` not an object or its `sha256`/`kmsKeyName` not a string, `labels` not an object "
    "when a selector is set.",
)
def vm07_customer_keys(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an in-scope instance with a persistent disk encrypted by Google's default key only."""
    selector = params.compute.critical_selector

    def judge(instance: JSON, who: str) -> Judgement | None:
        if not matches(instance, selector):
            return None
        disks = instance.get("disks")
        if not isinstance(disks, list):
            raise Unjudgeable("disks", "absent" if disks is None else f"{disks!r} is not a list")
        keyed: list[str] = []
        plain: list[str] = []
        for i, disk in enumerate(disks):
            if not isinstance(disk, dict):
                raise Unjudgeable(f"disks[{i}]", f"{disk!r} is not an object")
            if disk.get("type") == "SCRATCH":
                continue
            name = str(disk.get("deviceName") or str(disk.get("source", f"#{i}")).rsplit("/", 1)[-1])
            how = _disk_key(disk, f"disks[{i}]")
            if how is None:
                plain.append(name)
            else:
                keyed.append(f"{name}: {how}")
        if plain:
            return Judgement(Verdict.FAIL, f"{who} has disk(s) encrypted with Google's default key only, no "
                             f"customer key: {', '.join(plain)}", ", ".join(plain))  # fmt: skip
        if not keyed:
            return None
        return Judgement(Verdict.PASS, f"{who} has every persistent disk under a customer key ({'; '.join(keyed)})")

    return _instances(snapshot, judge)


@control(
    id="VM-08", title="VMs are Shielded VMs with vTPM and integrity monitoring", area=Area.VM,
    severity=Severity.MEDIUM, kinds=(Kind.INSTANCES,), unit="instance",
    references=References(cis=(("4.0", "4.8"), ("5.0", "4.8")), soc2=("CC6.8", "CC7.1"), sha="SHIELDED_VM_DISABLED"),
    rationale="A Shielded VM measures its boot (vTPM) and compares each boot with a known good baseline "
    "(integrity monitoring), so a rootkit or bootkit that changes the boot chain is noticed. Secure Boot, "
    "which can stop unsigned drivers from loading, is optional in CIS and not required here.",
    remediation="On a Shielded-VM-capable image: `gcloud compute instances stop VM --zone=ZONE && gcloud "
    "compute instances update VM --zone=ZONE --shielded-vtpm --shielded-vm-integrity-monitoring && gcloud "
    "compute instances start VM --zone=ZONE`; enforce with the organisation policy `compute.requireShieldedVm`.",
    holds="The instance has `shieldedInstanceConfig.enableVtpm` and `enableIntegrityMonitoring` both true.",
    logic="No `shieldedInstanceConfig` fails (the VM was not created from a Shielded VM image); otherwise "
    "both `enableVtpm` and `enableIntegrityMonitoring` must be true, a false one fails naming it. "
    "`enableSecureBoot` is reported, not required.",
    unknown="error naming the field: `shieldedInstanceConfig` not an object, `enableVtpm` or "
    "`enableIntegrityMonitoring` absent from it or not a boolean (the API writes all three).",
)
def vm08_shielded_vm(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an instance without a Shielded VM config, or with vTPM or integrity monitoring off."""

    def judge(instance: JSON, who: str) -> Judgement:
        config = instance.get("shieldedInstanceConfig")
        if config is None:
            return Judgement(Verdict.FAIL, f"{who} is not a Shielded VM (no shieldedInstanceConfig)")
        if not isinstance(config, dict):
            raise Unjudgeable("shieldedInstanceConfig", f"{config!r} is not an object")
        off = [field for field in ("enableVtpm", "enableIntegrityMonitoring")
               if not boolean(config, field, f"shieldedInstanceConfig.{field}")]  # fmt: skip
        if off:
            return Judgement(Verdict.FAIL, f"{who} is a Shielded VM with {' and '.join(off)} false", ", ".join(off))
        secure = "on" if config.get("enableSecureBoot") is True else "off"
        return Judgement(Verdict.PASS, f"{who} is a Shielded VM with vTPM and integrity monitoring on (secure "
                         f"boot {secure})")  # fmt: skip

    return _instances(snapshot, judge)


def _confidential(instance: JSON) -> str | None:
    """How the instance is confidential (`enableConfidentialCompute`, `confidentialInstanceType TDX`), or None."""
    config = instance.get("confidentialInstanceConfig")
    if config is None:
        return None
    if not isinstance(config, dict):
        raise Unjudgeable("confidentialInstanceConfig", f"{config!r} is not an object")
    kind = config.get("confidentialInstanceType")
    if kind is not None and kind != _UNSPECIFIED:
        if kind not in CONFIDENTIAL_TYPES:
            raise Unjudgeable("confidentialInstanceConfig.confidentialInstanceType", f"{kind!r} is no known type")
        return f"confidentialInstanceType {kind}"
    enabled = boolean(config, "enableConfidentialCompute", "confidentialInstanceConfig.enableConfidentialCompute",
                      default=False)  # fmt: skip
    return "enableConfidentialCompute: true" if enabled else None


@control(
    id="VM-09", title="VMs that can be Confidential VMs are", area=Area.VM, severity=Severity.LOW,
    kinds=(Kind.INSTANCES,), params=("compute.confidential_families",), unit="instance",
    references=References(cis=(("4.0", "4.11"), ("5.0", "4.11")), soc2=("CC6.1",),
                          sha="CONFIDENTIAL_COMPUTING_DISABLED"),
    rationale="A Confidential VM keeps its memory encrypted with keys held by the processor, out of reach of "
    "the host and of Google's operators. Only some machine families can run one, so CIS audits N2D machines; "
    "the API now also names the technology (`confidentialInstanceType`: SEV, SEV_SNP, TDX), which counts as "
    "on, as Google's current API reference says.",
    remediation="Confidential Computing is chosen at creation: recreate the VM on a supported machine type "
    "with `gcloud compute instances create VM --zone=ZONE --machine-type=n2d-standard-2 "
    "--confidential-compute-type=SEV --maintenance-policy=TERMINATE`.",
    holds="An instance of a Confidential-VM-capable machine family runs as a Confidential VM.",
    logic="Confidential when `confidentialInstanceConfig.confidentialInstanceType` is SEV, SEV_SNP, TDX, CCA or "
    "BMSAI, or `confidentialInstanceConfig.enableConfidentialCompute` is true (absent: false): such an "
    "instance passes, whatever its machine type. Otherwise the instance is in scope when its machine family "
    "(`machineType`'s name up to its first `-`) is in `compute.confidential_families` (default n2d, c2d, c3d, "
    "c3; CIS audits n2d), and fails; other families get no result.",
    unknown="error naming the field: `confidentialInstanceConfig` not an object, an unknown "
    "`confidentialInstanceType`, `enableConfidentialCompute` not a boolean, `machineType` absent when the "
    "instance is not confidential.",
)
def vm09_confidential(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a non-confidential instance of a family in `compute.confidential_families`."""
    families = params.compute.confidential_families

    def judge(instance: JSON, who: str) -> Judgement | None:
        how = _confidential(instance)
        if how is not None:
            return Judgement(Verdict.PASS, f"{who} is a Confidential VM ({how})")
        machine = family(instance)
        if machine not in families:
            return None
        return Judgement(Verdict.FAIL, f"{who} ({machine} family) runs without Confidential Computing "
                         f"(compute.confidential_families: {', '.join(families)})")  # fmt: skip

    return _instances(snapshot, judge)
