"""The CIS Google Cloud Platform Foundation Benchmark recommendations, as reference data for tests.

Every recommendation of v4.0.0, with its id in v5.0.0 and whether v4.0 assesses it as Automated
(the 72 that a tool can judge from Google's APIs) or Manual. The ids, titles and assessment
status were checked against the published benchmark's recommendation list, version by version;
titles are the benchmark's, matched across versions by title, not by position.

v5.0 renumbered v4.0 by inserting recommendations: 1.1.1-1.1.4 (organisation resource), 2.2
(Workspace audit-log sharing), 3.8-3.9 (VPC Service Controls, Private Service Connect), 6.6 (IAM
database authentication) and 6.9 (deletion protection). Each v4.0 recommendation kept its title in
v5.0; none was dropped. The rows with an empty `v4` are those v5.0-only recommendations, all Manual
in v5.0. One assessment changed between versions: Access Approval (v4.0 2.15, Automated) is Manual
as v5.0 2.16; `automated` here is always the v4.0 status, the target of issue 13.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One benchmark recommendation: its v4.0 id ("" when v5.0 added it), its v5.0 id (None when
    v5.0 dropped it), the benchmark's title, and whether v4.0 assesses it as Automated."""

    v4: str
    v5: str | None
    title: str
    automated: bool


def _r(v4: str, v5: str | None, title: str, automated: bool) -> Recommendation:
    return Recommendation(v4, v5, title, automated)


A, M = True, False

RECOMMENDATIONS: tuple[Recommendation, ...] = (
    # 1 Identity and Access Management
    _r("", "1.1.1", "Ensure Super Admin Email Address Is Not Tied To A Single User", M),
    _r("", "1.1.2", "Ensure Super Admin Account Is Not Used For Google Cloud Administration", M),
    _r("", "1.1.3", "Ensure Folders Are Structured By Environment And Sensitivity", M),
    _r("", "1.1.4", "Ensure Organization Policies Are Configured For Centralized Constraints", M),
    _r("1.1", "1.2", "Ensure that Corporate Login Credentials are Used", M),
    _r("1.2", "1.3", "Ensure that Multi-Factor Authentication is 'Enabled' for All Non-Service Accounts", M),
    _r("1.3", "1.4", "Ensure that Security Key Enforcement is Enabled for All Admin Accounts", M),
    _r("1.4", "1.5", "Ensure That There Are Only GCP-Managed Service Account Keys for Each Service Account", A),
    _r("1.5", "1.6", "Ensure That Service Account Has No Admin Privileges", A),
    _r("1.6", "1.7", "Ensure That IAM Users Are Not Assigned the Service Account User or Service Account Token "
       "Creator Roles at Project Level", A),
    _r("1.7", "1.8", "Ensure User-Managed/External Keys for Service Accounts Are Rotated Every 90 Days or Fewer", A),
    _r("1.8", "1.9", "Ensure That Separation of Duties Is Enforced While Assigning Service Account Related Roles "
       "to Users", A),
    _r("1.9", "1.10", "Ensure That Cloud KMS Cryptokeys Are Not Anonymously or Publicly Accessible", A),
    _r("1.10", "1.11", "Ensure KMS Encryption Keys Are Rotated Within a Period of 90 Days", A),
    _r("1.11", "1.12", "Ensure That Separation of Duties Is Enforced While Assigning KMS Related Roles to Users", A),
    _r("1.12", "1.13", "Ensure API Keys Only Exist for Active Services", A),
    _r("1.13", "1.14", "Ensure API Keys Are Restricted To Use by Only Specified Hosts and Apps", M),
    _r("1.14", "1.15", "Ensure API Keys Are Restricted to Only APIs That Application Needs Access", A),
    _r("1.15", "1.16", "Ensure API Keys Are Rotated Every 90 Days", A),
    _r("1.16", "1.17", "Ensure Essential Contacts is Configured for Organization", A),
    _r("1.17", "1.18", "Ensure Secrets are Not Stored in Cloud Functions Environment Variables by Using Secret "
       "Manager", M),
    # 2 Logging and Monitoring
    _r("2.1", "2.1", "Ensure That Cloud Audit Logging Is Configured Properly", A),
    _r("", "2.2", "Ensure Google Workspace/Cloud Identity Data Sharing with Google Cloud is Enabled for Admin "
       "Audit Logging", M),
    _r("2.2", "2.3", "Ensure That Sinks Are Configured for All Log Entries", A),
    _r("2.3", "2.4", "Ensure That Retention Policies on Cloud Storage Buckets Used for Exporting Logs Are "
       "Configured Using Bucket Lock", A),
    _r("2.4", "2.5", "Ensure Log Metric Filter and Alerts Exist for Project Ownership Assignments/Changes", A),
    _r("2.5", "2.6", "Ensure That the Log Metric Filter and Alerts Exist for Audit Configuration Changes", A),
    _r("2.6", "2.7", "Ensure That the Log Metric Filter and Alerts Exist for Custom Role Changes", A),
    _r("2.7", "2.8", "Ensure That the Log Metric Filter and Alerts Exist for VPC Network Firewall Rule Changes", A),
    _r("2.8", "2.9", "Ensure That the Log Metric Filter and Alerts Exist for VPC Network Route Changes", A),
    _r("2.9", "2.10", "Ensure That the Log Metric Filter and Alerts Exist for VPC Network Changes", A),
    _r("2.10", "2.11", "Ensure That the Log Metric Filter and Alerts Exist for Cloud Storage IAM Permission "
       "Changes", A),
    _r("2.11", "2.12", "Ensure That the Log Metric Filter and Alerts Exist for SQL Instance Configuration Changes", A),
    _r("2.12", "2.13", "Ensure That Cloud DNS Logging Is Enabled for All VPC Networks", A),
    _r("2.13", "2.14", "Ensure Cloud Asset Inventory Is Enabled", A),
    _r("2.14", "2.15", "Ensure 'Access Transparency' is 'Enabled'", M),
    _r("2.15", "2.16", "Ensure 'Access Approval' is 'Enabled'", A),  # Manual in v5.0
    _r("2.16", "2.17", "Ensure Logging is enabled for HTTP(S) Load Balancer", A),
    # 3 Networking
    _r("3.1", "3.1", "Ensure That the Default Network Does Not Exist in a Project", A),
    _r("3.2", "3.2", "Ensure Legacy Networks Do Not Exist for Older Projects", A),
    _r("3.3", "3.3", "Ensure That DNSSEC Is Enabled for Cloud DNS", A),
    _r("3.4", "3.4", "Ensure That RSASHA1 Is Not Used for the Key-Signing Key in Cloud DNS DNSSEC", A),
    _r("3.5", "3.5", "Ensure That RSASHA1 Is Not Used for the Zone-Signing Key in Cloud DNS DNSSEC", A),
    _r("3.6", "3.6", "Ensure That SSH Access Is Restricted From the Internet", A),
    _r("3.7", "3.7", "Ensure That RDP Access Is Restricted From the Internet", A),
    _r("", "3.8", "Ensure VPC Service Controls Is Enabled for Supported Google Cloud Services", M),
    _r("", "3.9", "Ensure Private Service Connect is Used for Access to Google APIs", M),
    _r("3.8", "3.10", "Ensure that VPC Flow Logs is Enabled for Every Subnet in a VPC Network", A),
    _r("3.9", "3.11", "Ensure No HTTPS or SSL Proxy Load Balancers Permit SSL Policies With Weak Cipher Suites", M),
    _r("3.10", "3.12", "Use Identity Aware Proxy (IAP) to Ensure Only Traffic From Google IP Addresses are "
       "'Allowed'", M),
    # 4 Virtual Machines
    _r("4.1", "4.1", "Ensure That Instances Are Not Configured To Use the Default Service Account", A),
    _r("4.2", "4.2", "Ensure That Instances Are Not Configured To Use the Default Service Account With Full "
       "Access to All Cloud APIs", A),
    _r("4.3", "4.3", "Ensure 'Block Project-Wide SSH Keys' Is Enabled for VM Instances", A),
    _r("4.4", "4.4", "Ensure Oslogin Is Enabled for a Project", A),
    _r("4.5", "4.5", "Ensure 'Enable Connecting to Serial Ports' Is Not Enabled for VM Instance", A),
    _r("4.6", "4.6", "Ensure That IP Forwarding Is Not Enabled on Instances", A),
    _r("4.7", "4.7", "Ensure VM Disks for Critical VMs Are Encrypted With Customer-Supplied Encryption Keys "
       "(CSEK)", A),
    _r("4.8", "4.8", "Ensure Compute Instances Are Launched With Shielded VM Enabled", A),
    _r("4.9", "4.9", "Ensure That Compute Instances Do Not Have Public IP Addresses", A),
    _r("4.10", "4.10", "Ensure That App Engine Applications Enforce HTTPS Connections", M),
    _r("4.11", "4.11", "Ensure That Compute Instances Have Confidential Computing Enabled", A),
    _r("4.12", "4.12", "Ensure the Latest Operating System Updates Are Installed On Your Virtual Machines in All "
       "Projects", M),
    # 5 Storage
    _r("5.1", "5.1", "Ensure That Cloud Storage Bucket Is Not Anonymously or Publicly Accessible", A),
    _r("5.2", "5.2", "Ensure That Cloud Storage Buckets Have Uniform Bucket-Level Access Enabled", A),
    # 6 Cloud SQL Database Services (6.1 MySQL, 6.2 PostgreSQL, 6.3 SQL Server)
    _r("6.1.1", "6.1.1", "Ensure That a MySQL Instance Does Not Allow Anyone To Connect With Administrative "
       "Privileges", M),
    _r("6.1.2", "6.1.2", "Ensure 'Skip_show_database' Database Flag for Cloud SQL MySQL Instance Is Set to 'On'", A),
    _r("6.1.3", "6.1.3", "Ensure That the 'Local_infile' Database Flag for a Cloud SQL MySQL Instance Is Set to "
       "'Off'", A),
    _r("6.2.1", "6.2.1", "Ensure 'Log_error_verbosity' Database Flag for Cloud SQL PostgreSQL Instance Is Set to "
       "'DEFAULT' or Stricter", A),
    _r("6.2.2", "6.2.2", "Ensure That the 'Log_connections' Database Flag for Cloud SQL PostgreSQL Instance Is Set "
       "to 'On'", A),
    _r("6.2.3", "6.2.3", "Ensure That the 'Log_disconnections' Database Flag for Cloud SQL PostgreSQL Instance Is "
       "Set to 'On'", A),
    _r("6.2.4", "6.2.4", "Ensure 'Log_statement' Database Flag for Cloud SQL PostgreSQL Instance Is Set "
       "Appropriately", A),
    _r("6.2.5", "6.2.5", "Ensure that the 'Log_min_messages' Flag for a Cloud SQL PostgreSQL Instance is set at "
       "minimum to 'Warning'", A),
    _r("6.2.6", "6.2.6", "Ensure 'Log_min_error_statement' Database Flag for Cloud SQL PostgreSQL Instance Is Set "
       "to 'Error' or Stricter", A),
    _r("6.2.7", "6.2.7", "Ensure That the 'Log_min_duration_statement' Database Flag for Cloud SQL PostgreSQL "
       "Instance Is Set to '-1' (Disabled)", A),
    _r("6.2.8", "6.2.8", "Ensure That 'cloudsql.enable_pgaudit' Database Flag for each Cloud Sql Postgresql "
       "Instance Is Set to 'on' For Centralized Logging", A),
    _r("6.3.1", "6.3.1", "Ensure 'external scripts enabled' Database Flag for Cloud SQL SQL Server Instance Is Set "
       "to 'off'", A),
    _r("6.3.2", "6.3.2", "Ensure 'cross db ownership chaining' Database Flag for Cloud SQL SQL Server Instance Is "
       "Set to 'off'", A),
    _r("6.3.3", "6.3.3", "Ensure 'user Connections' Database Flag for Cloud SQL SQL Server Instance Is Set to a "
       "Non-limiting Value", A),
    _r("6.3.4", "6.3.4", "Ensure 'user options' Database Flag for Cloud SQL SQL Server Instance Is Not "
       "Configured", A),
    _r("6.3.5", "6.3.5", "Ensure 'remote access' Database Flag for Cloud SQL SQL Server Instance Is Set to "
       "'off'", A),
    _r("6.3.6", "6.3.6", "Ensure '3625 (trace flag)' Database Flag for all Cloud SQL SQL Server Instances Is Set "
       "to 'on'", A),
    _r("6.3.7", "6.3.7", "Ensure 'contained database authentication' Database Flag for Cloud SQL SQL Server "
       "Instance Is Set to 'off'", A),
    _r("6.4", "6.4", "Ensure That the Cloud SQL Database Instance Requires All Incoming Connections To Use SSL", A),
    _r("6.5", "6.5", "Ensure That Cloud SQL Database Instances Do Not Implicitly Whitelist All Public IP "
       "Addresses", A),
    _r("", "6.6", "Ensure Cloud SQL Database Instances Have IAM Database Authentication Enabled", M),
    _r("6.6", "6.7", "Ensure That Cloud SQL Database Instances Do Not Have Public IPs", A),
    _r("6.7", "6.8", "Ensure That Cloud SQL Database Instances Are Configured With Automated Backups", A),
    _r("", "6.9", "Ensure Cloud SQL Database Instances Have Deletion Protection Enabled", M),
    # 7 BigQuery
    _r("7.1", "7.1", "Ensure That BigQuery Datasets Are Not Anonymously or Publicly Accessible", A),
    _r("7.2", "7.2", "Ensure That All BigQuery Tables Are Encrypted With Customer-Managed Encryption Key (CMEK)", A),
    _r("7.3", "7.3", "Ensure That a Default Customer-Managed Encryption Key (CMEK) Is Specified for All BigQuery "
       "Data Sets", A),
    _r("7.4", "7.4", "Ensure all data in BigQuery has been classified", M),
    # 8 Dataproc
    _r("8.1", "8.1", "Ensure that Dataproc Cluster is encrypted using Customer-Managed Encryption Key", A),
)  # fmt: skip

BY_V4: dict[str, Recommendation] = {r.v4: r for r in RECOMMENDATIONS if r.v4}
"""v4.0 id -> recommendation."""

BY_V5: dict[str, Recommendation] = {r.v5: r for r in RECOMMENDATIONS if r.v5}
"""v5.0 id -> recommendation."""

AUTOMATED_V4: tuple[str, ...] = tuple(r.v4 for r in RECOMMENDATIONS if r.v4 and r.automated)
"""The v4.0 recommendations assessed as Automated, in benchmark order."""
