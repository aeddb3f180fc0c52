//! The command line's grammar, as clap derive types: global connection flags, then one
//! subcommand per resource with `list`, `show`, `create`, `update` and `delete` where the API
//! has them. Flags mirror the fields of the API's `Create*`/`Update*` bodies; a clearable
//! field has a `--clear-FIELD` switch. Boolean flags take an optional value: `--enabled`
//! means true, `--enabled=false` false.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use latchkey_client::{ImportKind, Order};
use latchkey_model::{
    AssignmentRuleId, AttributeId, DocumentId, DomainId, DomainValue, FolderId, GrantId,
    GrantOrigin, GrantStatus, GroupId, InheritanceId, ItemId, MailDomainId, MemberRole,
    MembershipId, ObjectType, Plan, RoleId, SystemId, TeamId, TokenId, UserId, UserTypeId,
    Visibility, WorkspaceId, WorkspaceInvitationId, WorkspaceKeyId,
};
use time::OffsetDateTime;

use crate::parse::{
    AttrArg, parse_attr, parse_domain_value, parse_grant_origin, parse_grant_status,
    parse_member_role, parse_object_type, parse_plan, parse_time, parse_version, parse_visibility,
};

#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = "Latchkey identity governance: server and command line client"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

// Where to connect and how to print; they override the saved profile. (A `///` doc here
// would become the about text of every command that flattens it.)
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Base URL of the server, e.g. http://127.0.0.1:8080
    #[arg(long, global = true, env = "LATCHKEY_URL")]
    pub url: Option<String>,
    /// API token (lk_...)
    #[arg(long, global = true, env = "LATCHKEY_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Saved profile to use (default: `default`)
    #[arg(long, global = true, env = "LATCHKEY_PROFILE")]
    pub profile: Option<String>,
    /// Print the raw JSON answers instead of tables
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Latchkey server
    Serve(ServeArgs),
    /// Check a URL and token with the server and save them as a profile
    Login,
    /// Show who the token belongs to and what it may do
    Whoami,
    /// List the product permissions
    Permissions,
    /// Organisations (installation administrators)
    #[command(subcommand)]
    Organisations(OrganisationsCmd),
    /// Users
    #[command(subcommand)]
    Users(UsersCmd),
    /// Groups (a tree)
    #[command(subcommand)]
    Groups(GroupsCmd),
    /// Secondary group memberships
    #[command(subcommand)]
    Memberships(MembershipsCmd),
    /// Information systems and their custom domains
    #[command(subcommand)]
    Systems(SystemsCmd),
    /// Roles of information systems, their granted roles and holders
    #[command(subcommand)]
    Roles(RolesCmd),
    /// Role grants to users and groups
    #[command(subcommand)]
    Grants(GrantsCmd),
    /// Custom attribute definitions and user types
    #[command(subcommand)]
    Metadata(MetadataCmd),
    /// Mail domains accepted for email addresses
    #[command(subcommand)]
    MailDomains(MailDomainsCmd),
    /// Show the roles a user holds and why, as a tree
    EffectiveRoles(EffectiveRolesArgs),
    /// May this user do this? Exit 0 when allowed, 1 when not
    Check(CheckArgs),
    /// Preview a change to a role or group: who would gain and who would lose which
    /// effective role (nothing is changed)
    Preview(crate::commands::history::PreviewArgs),
    /// Import a CSV file (all or nothing), or load NDJSON records with `--bulk FILE`
    Import(ImportArgs),
    /// Export a collection as CSV
    Export(ExportArgs),
    /// The audit trail
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Your own API tokens
    #[command(subcommand)]
    Tokens(TokensCmd),
    /// Sign in with a user name and password; the session is saved as a profile
    SignIn(SignInArgs),
    /// End the session of the current profile
    SignOut,
    /// Your sessions
    #[command(subcommand)]
    Sessions(SessionsCmd),
    /// Set (reset) a user's password, read from --password-file or LATCHKEY_PASSWORD
    SetPassword(SetPasswordArgs),
    /// The Security Center: events and alerts
    #[command(subcommand)]
    Security(SecurityCmd),
    /// Invite someone by work email with a role (and a group); an address that already
    /// belongs to a user updates that user instead
    Invite(InviteArgs),
    /// Invitations: list and revoke
    #[command(subcommand)]
    Invitations(InvitationsCmd),
    /// Your TOTP devices (authenticator apps asked for a code at sign-in)
    #[command(subcommand)]
    Totp(TotpCmd),
    /// Passkeys: list, rename and remove yours, or (--user) list and reset a user's
    #[command(subcommand)]
    Passkeys(PasskeysCmd),
    /// Workspaces: members, invitations, teams, folders, documents and API keys
    #[command(subcommand)]
    Workspaces(WorkspacesCmd),
    /// App items (orchestrations, drafts, sheets, meetings, templates, sequences): create,
    /// share, publish; and the organisation's sharing setting
    #[command(subcommand)]
    Items(ItemsCmd),
    /// Role assignment rules: CEL expressions over users that grant roles while they hold;
    /// check, preview the exact diff, apply with progress
    #[command(subcommand)]
    Rules(RulesCmd),
    /// Segregation-of-duties rules: which roles no one user may combine, and who does
    #[command(subcommand)]
    Sod(crate::commands::sod::SodCmd),
    /// Approval requests: grants and revokes waiting for an approver; your queues and
    /// decisions
    #[command(subcommand)]
    Approvals(crate::commands::approvals::ApprovalsCmd),
    /// Access reviews: campaigns over grants, each confirmed or revoked by its reviewers
    /// before a due date; your queue and overdue items
    #[command(subcommand)]
    Reviews(crate::commands::reviews::ReviewsCmd),
}

#[derive(Debug, Subcommand)]
pub enum RulesCmd {
    /// Every rule, with its latest run
    List,
    /// One rule
    Show { id: AssignmentRuleId },
    /// Create a rule (saving does not apply it: preview, then apply)
    Create(RuleArgs),
    /// Change a rule; flags left out stay as they are
    Update {
        id: AssignmentRuleId,
        #[command(flatten)]
        rule: RuleChangeArgs,
    },
    /// Delete a rule and revoke every grant it made
    Delete { id: AssignmentRuleId },
    /// Check expressions against the organisation's attributes without saving
    Check {
        #[arg(long)]
        expression: String,
        #[arg(long)]
        roles_expression: Option<String>,
    },
    /// What applying the rule now would change: who gains and who loses which role
    Preview {
        id: AssignmentRuleId,
        /// Entries listed per kind (totals count everything)
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Apply the rule to every user now, following the run's progress
    Apply {
        id: AssignmentRuleId,
        /// Start the run and print it without waiting for its end
        #[arg(long)]
        no_wait: bool,
    },
    /// The rule's runs, latest first
    Runs { id: AssignmentRuleId },
}

#[derive(Debug, Clone, Args)]
pub struct RuleArgs {
    pub name: String,
    /// CEL over `user`, true when the user should hold the roles, e.g.
    /// 'user.active && user.primary_group == "Writers"'
    #[arg(long)]
    pub expression: String,
    /// A role the rule grants (repeat for several)
    #[arg(long = "role")]
    pub roles: Vec<latchkey_model::RoleId>,
    /// CEL over `user` giving more role names (`role` or `role@system`)
    #[arg(long)]
    pub roles_expression: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// Save the rule disabled (it grants nothing until enabled)
    #[arg(long)]
    pub disabled: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RuleChangeArgs {
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub expression: Option<String>,
    /// Replaces the rule's roles (repeat for several)
    #[arg(long = "role")]
    pub roles: Vec<latchkey_model::RoleId>,
    /// An empty value removes the role-name expression
    #[arg(long)]
    pub roles_expression: Option<String>,
    /// An empty value removes the description
    #[arg(long)]
    pub description: Option<String>,
    #[arg(long, conflicts_with = "disable")]
    pub enable: bool,
    #[arg(long)]
    pub disable: bool,
    /// The version read (refused if the rule changed since)
    #[arg(long)]
    pub if_match: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum ItemsCmd {
    /// The items you own, collaborate on, or that are published
    List,
    /// One item
    Show { id: ItemId },
    /// Create an item you own
    Create {
        /// orchestration, draft, sheet, meeting, template or sequence
        kind: String,
        name: String,
        /// The workspace it belongs to (you must be an editor there)
        #[arg(long)]
        workspace: Option<WorkspaceId>,
    },
    /// Share an item you own with a user
    Share { id: ItemId, user: UserId },
    /// Stop sharing with a user (or leave, with your own id)
    Unshare { id: ItemId, user: UserId },
    /// Publish an orchestration you own to the organisation (orchestrations.publish)
    Publish { id: ItemId },
    /// Withdraw a published orchestration
    Withdraw { id: ItemId },
    /// Show the organisation's sharing setting, or change it (org.settings)
    Sharing {
        /// `on`: owners share freely; `off`: sharing an orchestration needs orchestrations.share
        #[arg(long, value_parser = ["on", "off"])]
        set: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PasskeysCmd {
    /// Your passkeys, or a user's
    List {
        #[arg(long)]
        user: Option<UserId>,
    },
    /// Rename one of your passkeys
    Rename {
        id: latchkey_model::PasskeyId,
        name: String,
    },
    /// Remove one of your passkeys, or (--user) a user's lost one
    Remove {
        id: latchkey_model::PasskeyId,
        #[arg(long)]
        user: Option<UserId>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct InviteArgs {
    pub email: String,
    /// The role to grant
    #[arg(long)]
    pub role: latchkey_model::RoleId,
    /// The group to join (the organisation's root group when left out)
    #[arg(long)]
    pub group: Option<latchkey_model::GroupId>,
}

#[derive(Debug, Subcommand)]
pub enum InvitationsCmd {
    /// The organisation's invitations, newest first
    List {
        #[arg(long)]
        email: Option<String>,
        /// pending, accepted, revoked or expired
        #[arg(long)]
        status: Option<String>,
    },
    /// Revoke a pending invitation
    Revoke { id: latchkey_model::InvitationId },
}

#[derive(Debug, Subcommand)]
pub enum TotpCmd {
    /// Enrol a device: prints the otpauth URL (and secret) to add to an authenticator app
    Enroll {
        /// A name for it, unique among your devices (1 to 64 characters)
        name: String,
    },
    /// Verify a device with the code its app shows now
    Verify {
        id: latchkey_model::TotpDeviceId,
        code: String,
    },
    /// List your devices, with their failed attempts
    List,
    /// Disable a device (a verified one needs its current code)
    Disable {
        id: latchkey_model::TotpDeviceId,
        /// The code the app shows now
        #[arg(long)]
        code: Option<String>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct SignInArgs {
    #[arg(long)]
    pub user_name: String,
    /// The organisation's slug, when the installation has several
    #[arg(long)]
    pub organisation: Option<String>,
    /// A file whose first line is the password (else LATCHKEY_PASSWORD)
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// The current code of your TOTP device, once you have a verified one
    #[arg(long, value_name = "CODE")]
    pub totp_code: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct SetPasswordArgs {
    pub user_id: UserId,
    /// A file whose first line is the password (else LATCHKEY_PASSWORD)
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCmd {
    /// List your live sessions
    List,
    /// End a session
    Revoke { id: latchkey_model::SessionId },
}

#[derive(Debug, Subcommand)]
pub enum SecurityCmd {
    /// Security events, newest first
    Events {
        /// An exact kind (sign_in.failed) or a prefix ending in `.` (sign_in.)
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        user_id: Option<UserId>,
        #[command(flatten)]
        page: ListArgs,
    },
    /// Security alerts, newest first
    Alerts {
        /// open, acknowledged or resolved
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        rule: Option<String>,
        #[command(flatten)]
        page: ListArgs,
    },
    /// Acknowledge an open alert
    Acknowledge {
        id: latchkey_model::SecurityAlertId,
        #[arg(long)]
        note: Option<String>,
    },
    /// Resolve an alert
    Resolve {
        id: latchkey_model::SecurityAlertId,
        #[arg(long)]
        note: Option<String>,
    },
    /// Access snapshots: who held what at an instant, as CSV
    #[command(subcommand)]
    Snapshots(crate::commands::history::SnapshotsCmd),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080
    #[arg(long, env = "LATCHKEY_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Directory for the SQLite database and other state
    #[arg(long, env = "LATCHKEY_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (sqlite:... or postgres://...)
    #[arg(long, env = "LATCHKEY_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Configuration file
    #[arg(long, env = "LATCHKEY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

// Paging shared by every `list`.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Paging")]
pub struct ListArgs {
    /// Items per page
    #[arg(long)]
    pub limit: Option<u32>,
    /// Continue from this cursor (printed after a page)
    #[arg(long, conflicts_with = "all")]
    pub cursor: Option<String>,
    /// asc or desc
    #[arg(long)]
    pub order: Option<Order>,
    /// Follow cursors and print every item
    #[arg(long)]
    pub all: bool,
}

// The version an update is based on, sent as `If-Match`.
#[derive(Debug, Clone, Default, Args)]
pub struct IfMatch {
    /// Refuse the update unless the entity is still at this version
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    pub if_match: Option<i64>,
}

// ----- organisations -----

#[derive(Debug, Subcommand)]
pub enum OrganisationsCmd {
    /// List organisations
    List(ListOnly),
    /// Create an organisation and its first administrator (prints the admin token once)
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        slug: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ListOnly {
    #[command(flatten)]
    pub page: ListArgs,
}

// ----- users -----

#[derive(Debug, Subcommand)]
pub enum UsersCmd {
    /// List users
    List(UserListArgs),
    /// Show one user
    Show { id: UserId },
    /// Create a user
    Create(UserCreateArgs),
    /// Change a user (only the fields given)
    Update(UserUpdateArgs),
    /// Delete a user; refused while they own workspaces, folders, documents or items
    /// unless --reassign-to names who takes them over
    Delete {
        id: UserId,
        /// The user who takes over everything the deleted user owns
        #[arg(long)]
        reassign_to: Option<UserId>,
    },
    /// Everything a user owns that deleting them would hand over
    Owned { id: UserId },
    /// Deleted users (tombstones): who they were and who took over what they owned
    Deleted,
    /// What a user may do in the product (roles) and see in a workspace (membership)
    Access(UserAccessArgs),
    /// Give the user's own grants the state they had at --at
    RestoreGrants {
        id: UserId,
        #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
        at: OffsetDateTime,
        /// Show what would change without changing it
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Clone, Args)]
pub struct UserAccessArgs {
    pub id: UserId,
    #[arg(long, value_name = "WORKSPACE_ID")]
    pub workspace: WorkspaceId,
    /// Also tell whether the user sees this folder, and why
    #[arg(long, value_name = "FOLDER_ID")]
    pub folder: Option<FolderId>,
}

#[derive(Debug, Clone, ValueEnum)]
pub enum UserSort {
    UserName,
    LastName,
    CreatedAt,
}

impl UserSort {
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::UserName => "user_name",
            Self::LastName => "last_name",
            Self::CreatedAt => "created_at",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct UserListArgs {
    /// Free text over user name, names and email
    #[arg(short, long)]
    pub query: Option<String>,
    #[arg(long)]
    pub user_name: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub enabled: Option<bool>,
    #[arg(long)]
    pub user_type: Option<String>,
    #[arg(long, value_name = "GROUP_ID")]
    pub primary_group: Option<GroupId>,
    /// Members of this group (primary or secondary)
    #[arg(long, value_name = "GROUP_ID")]
    pub member_of: Option<GroupId>,
    /// Custom attribute filter, `name:value`
    #[arg(long, value_name = "NAME:VALUE")]
    pub attribute: Option<String>,
    #[arg(long, value_enum)]
    pub sort: Option<UserSort>,
    #[command(flatten)]
    pub page: ListArgs,
}

#[derive(Debug, Clone, Args)]
pub struct UserCreateArgs {
    #[arg(long)]
    pub user_name: String,
    #[arg(long)]
    pub first_name: String,
    #[arg(long)]
    pub middle_name: Option<String>,
    #[arg(long)]
    pub last_name: String,
    #[arg(long)]
    pub email: Option<String>,
    /// Repeat for several aliases
    #[arg(long = "mail-alias", value_name = "EMAIL")]
    pub mail_aliases: Vec<String>,
    #[arg(long)]
    pub user_type: Option<String>,
    #[arg(long, value_name = "GROUP_ID")]
    pub primary_group: GroupId,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub enabled: Option<bool>,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub multi_session: Option<bool>,
    #[arg(long)]
    pub comments: Option<String>,
    /// Custom attribute `name=value` (numbers, booleans and JSON are parsed); repeatable
    #[arg(long = "attr", value_name = "NAME=VALUE", value_parser = parse_attr)]
    pub attrs: Vec<AttrArg>,
}

#[derive(Debug, Clone, Args)]
pub struct UserUpdateArgs {
    pub id: UserId,
    #[arg(long)]
    pub user_name: Option<String>,
    #[arg(long)]
    pub first_name: Option<String>,
    #[arg(long, conflicts_with = "clear_middle_name")]
    pub middle_name: Option<String>,
    #[arg(long)]
    pub clear_middle_name: bool,
    #[arg(long)]
    pub last_name: Option<String>,
    #[arg(long, conflicts_with = "clear_email")]
    pub email: Option<String>,
    #[arg(long)]
    pub clear_email: bool,
    /// Replaces the aliases; repeat for several
    #[arg(
        long = "mail-alias",
        value_name = "EMAIL",
        conflicts_with = "clear_mail_aliases"
    )]
    pub mail_aliases: Vec<String>,
    #[arg(long)]
    pub clear_mail_aliases: bool,
    #[arg(long, conflicts_with = "clear_user_type")]
    pub user_type: Option<String>,
    #[arg(long)]
    pub clear_user_type: bool,
    #[arg(long, value_name = "GROUP_ID")]
    pub primary_group: Option<GroupId>,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub enabled: Option<bool>,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub multi_session: Option<bool>,
    #[arg(long, conflicts_with = "clear_comments")]
    pub comments: Option<String>,
    #[arg(long)]
    pub clear_comments: bool,
    /// Custom attribute `name=value`, merged; `name=null` removes it; repeatable
    #[arg(long = "attr", value_name = "NAME=VALUE", value_parser = parse_attr)]
    pub attrs: Vec<AttrArg>,
    #[command(flatten)]
    pub if_match: IfMatch,
}

// ----- groups -----

#[derive(Debug, Subcommand)]
pub enum GroupsCmd {
    /// List groups
    List(GroupListArgs),
    /// Show one group
    Show { id: GroupId },
    /// Create a group
    Create(GroupCreateArgs),
    /// Change a group (only the fields given)
    Update(GroupUpdateArgs),
    /// Delete a group
    Delete { id: GroupId },
    /// The group's members now, or at a past instant (--at) from the access history
    Members {
        id: GroupId,
        #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
        at: Option<OffsetDateTime>,
        /// At most this many members (1 to 10000; 1000 by default)
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Give the group's secondary memberships the state they had at --at
    RestoreMembers {
        id: GroupId,
        #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
        at: OffsetDateTime,
        /// Show what would change without changing it
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Clone, Args)]
pub struct GroupListArgs {
    #[arg(short, long)]
    pub query: Option<String>,
    /// A group id, or `root` for top-level groups
    #[arg(long, value_name = "GROUP_ID|root")]
    pub parent: Option<String>,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub disabled: Option<bool>,
    #[arg(long)]
    pub group_type: Option<String>,
    #[command(flatten)]
    pub page: ListArgs,
}

#[derive(Debug, Clone, Args)]
pub struct GroupCreateArgs {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub description: Option<String>,
    #[arg(long)]
    pub group_type: Option<String>,
    #[arg(long, value_name = "GROUP_ID")]
    pub parent: Option<GroupId>,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub disabled: Option<bool>,
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub active_since: Option<OffsetDateTime>,
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub active_until: Option<OffsetDateTime>,
    #[arg(long = "attr", value_name = "NAME=VALUE", value_parser = parse_attr)]
    pub attrs: Vec<AttrArg>,
}

#[derive(Debug, Clone, Args)]
pub struct GroupUpdateArgs {
    pub id: GroupId,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, conflicts_with = "clear_description")]
    pub description: Option<String>,
    #[arg(long)]
    pub clear_description: bool,
    #[arg(long, conflicts_with = "clear_group_type")]
    pub group_type: Option<String>,
    #[arg(long)]
    pub clear_group_type: bool,
    /// Move under this group
    #[arg(long, value_name = "GROUP_ID", conflicts_with = "clear_parent")]
    pub parent: Option<GroupId>,
    /// Make the group a root
    #[arg(long)]
    pub clear_parent: bool,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub disabled: Option<bool>,
    #[arg(long, value_name = "RFC3339", value_parser = parse_time, conflicts_with = "clear_active_since")]
    pub active_since: Option<OffsetDateTime>,
    #[arg(long)]
    pub clear_active_since: bool,
    #[arg(long, value_name = "RFC3339", value_parser = parse_time, conflicts_with = "clear_active_until")]
    pub active_until: Option<OffsetDateTime>,
    #[arg(long)]
    pub clear_active_until: bool,
    #[arg(long = "attr", value_name = "NAME=VALUE", value_parser = parse_attr)]
    pub attrs: Vec<AttrArg>,
    #[command(flatten)]
    pub if_match: IfMatch,
}

// ----- memberships -----

#[derive(Debug, Subcommand)]
pub enum MembershipsCmd {
    /// List memberships
    List(MembershipListArgs),
    /// Show one membership
    Show { id: MembershipId },
    /// Create a membership
    Create(MembershipCreateArgs),
    /// Change a membership (only the fields given)
    Update(MembershipUpdateArgs),
    /// Delete a membership
    Delete { id: MembershipId },
}

#[derive(Debug, Clone, Args)]
pub struct MembershipListArgs {
    #[arg(long, value_name = "USER_ID")]
    pub user: Option<UserId>,
    #[arg(long, value_name = "GROUP_ID")]
    pub group: Option<GroupId>,
    #[command(flatten)]
    pub page: ListArgs,
}

#[derive(Debug, Clone, Args)]
pub struct MembershipCreateArgs {
    #[arg(long, value_name = "USER_ID")]
    pub user: UserId,
    #[arg(long, value_name = "GROUP_ID")]
    pub group: GroupId,
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub starts_at: Option<OffsetDateTime>,
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub ends_at: Option<OffsetDateTime>,
    #[arg(long)]
    pub comments: Option<String>,
    #[arg(long = "attr", value_name = "NAME=VALUE", value_parser = parse_attr)]
    pub attrs: Vec<AttrArg>,
}

#[derive(Debug, Clone, Args)]
pub struct MembershipUpdateArgs {
    pub id: MembershipId,
    #[arg(long, value_name = "RFC3339", value_parser = parse_time, conflicts_with = "clear_starts_at")]
    pub starts_at: Option<OffsetDateTime>,
    #[arg(long)]
    pub clear_starts_at: bool,
    #[arg(long, value_name = "RFC3339", value_parser = parse_time, conflicts_with = "clear_ends_at")]
    pub ends_at: Option<OffsetDateTime>,
    #[arg(long)]
    pub clear_ends_at: bool,
    #[arg(long, conflicts_with = "clear_comments")]
    pub comments: Option<String>,
    #[arg(long)]
    pub clear_comments: bool,
    #[arg(long = "attr", value_name = "NAME=VALUE", value_parser = parse_attr)]
    pub attrs: Vec<AttrArg>,
    #[command(flatten)]
    pub if_match: IfMatch,
}

// ----- systems and domains -----

#[derive(Debug, Subcommand)]
pub enum SystemsCmd {
    /// List information systems
    List(SystemListArgs),
    /// Show one information system
    Show { id: SystemId },
    /// Create an information system
    Create(SystemCreateArgs),
    /// Change an information system (only the fields given)
    Update(SystemUpdateArgs),
    /// Delete an information system
    Delete { id: SystemId },
    /// List the custom domains of a system
    Domains { system_id: SystemId },
    /// Add a custom domain to a system
    AddDomain(DomainCreateArgs),
    /// Change a custom domain
    UpdateDomain(DomainUpdateArgs),
    /// Delete a custom domain
    DeleteDomain { id: DomainId },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SystemTypeArg {
    Application,
    Container,
    Business,
}

impl SystemTypeArg {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Application => "application",
            Self::Container => "container",
            Self::Business => "business",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct SystemListArgs {
    #[arg(short, long)]
    pub query: Option<String>,
    #[arg(long, value_name = "SYSTEM_ID")]
    pub parent: Option<SystemId>,
    #[command(flatten)]
    pub page: ListArgs,
}

#[derive(Debug, Clone, Args)]
pub struct SystemCreateArgs {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub description: Option<String>,
    #[arg(long = "type", value_enum)]
    pub system_type: Option<SystemTypeArg>,
    #[arg(long, value_name = "SYSTEM_ID")]
    pub parent: Option<SystemId>,
    #[arg(long, value_name = "USER_ID")]
    pub owner: Option<UserId>,
    /// Repeatable
    #[arg(long = "notification-email", value_name = "EMAIL")]
    pub notification_emails: Vec<String>,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub approval_process: Option<bool>,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub single_role: Option<bool>,
    /// Holders of this role decide the system's approval requests, with its owner
    #[arg(long, value_name = "ROLE_ID")]
    pub approver_role: Option<RoleId>,
}

#[derive(Debug, Clone, Args)]
pub struct SystemUpdateArgs {
    pub id: SystemId,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, conflicts_with = "clear_description")]
    pub description: Option<String>,
    #[arg(long)]
    pub clear_description: bool,
    #[arg(long = "type", value_enum)]
    pub system_type: Option<SystemTypeArg>,
    #[arg(long, value_name = "SYSTEM_ID", conflicts_with = "clear_parent")]
    pub parent: Option<SystemId>,
    #[arg(long)]
    pub clear_parent: bool,
    #[arg(long, value_name = "USER_ID", conflicts_with = "clear_owner")]
    pub owner: Option<UserId>,
    #[arg(long)]
    pub clear_owner: bool,
    /// Replaces the list; repeatable
    #[arg(
        long = "notification-email",
        value_name = "EMAIL",
        conflicts_with = "clear_notification_emails"
    )]
    pub notification_emails: Vec<String>,
    #[arg(long)]
    pub clear_notification_emails: bool,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub approval_process: Option<bool>,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub single_role: Option<bool>,
    /// Holders of this role decide the system's approval requests, with its owner
    #[arg(long, value_name = "ROLE_ID", conflicts_with = "clear_approver_role")]
    pub approver_role: Option<RoleId>,
    #[arg(long)]
    pub clear_approver_role: bool,
    #[command(flatten)]
    pub if_match: IfMatch,
}

#[derive(Debug, Clone, Args)]
pub struct DomainCreateArgs {
    pub system_id: SystemId,
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub description: Option<String>,
    /// An allowed value, `VALUE` or `VALUE=DESCRIPTION`; repeatable
    #[arg(long = "value", value_name = "VALUE[=DESCRIPTION]", value_parser = parse_domain_value)]
    pub values: Vec<DomainValue>,
}

#[derive(Debug, Clone, Args)]
pub struct DomainUpdateArgs {
    pub id: DomainId,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, conflicts_with = "clear_description")]
    pub description: Option<String>,
    #[arg(long)]
    pub clear_description: bool,
    /// Replaces the allowed values; repeatable
    #[arg(long = "value", value_name = "VALUE[=DESCRIPTION]", value_parser = parse_domain_value)]
    pub values: Vec<DomainValue>,
    #[command(flatten)]
    pub if_match: IfMatch,
}

// ----- roles -----

#[derive(Debug, Subcommand)]
pub enum RolesCmd {
    /// List roles
    List(RoleListArgs),
    /// Show one role
    Show { id: RoleId },
    /// Create a role
    Create(RoleCreateArgs),
    /// Change a role (only the fields given)
    Update(RoleUpdateArgs),
    /// Delete a role
    Delete { id: RoleId },
    /// List the roles that holders of a role also receive
    GrantedRoles { id: RoleId },
    /// Make holders of PARENT also receive --child
    GrantRole(GrantRoleArgs),
    /// Remove a granted role (the edge id is listed by `granted-roles`)
    RemoveGrantedRole { parent: RoleId, edge: InheritanceId },
    /// Who holds a role, and why
    Holders {
        id: RoleId,
        /// The instant to look at (default: now)
        #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
        at: Option<OffsetDateTime>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct RoleListArgs {
    #[arg(short, long)]
    pub query: Option<String>,
    #[arg(long, value_name = "SYSTEM_ID")]
    pub system: Option<SystemId>,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub privileged: Option<bool>,
    #[command(flatten)]
    pub page: ListArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DomainTypeArg {
    None,
    Groups,
    Systems,
    Custom,
}

impl DomainTypeArg {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Groups => "groups",
            Self::Systems => "systems",
            Self::Custom => "custom",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct RoleCreateArgs {
    #[arg(long)]
    pub name: String,
    #[arg(long, value_name = "SYSTEM_ID")]
    pub system: SystemId,
    #[arg(long)]
    pub description: Option<String>,
    #[arg(long)]
    pub category: Option<String>,
    /// What the role's scope ranges over; `custom` needs --domain
    #[arg(long, value_enum)]
    pub domain_type: Option<DomainTypeArg>,
    #[arg(long, value_name = "DOMAIN_ID")]
    pub domain: Option<DomainId>,
    #[arg(long)]
    pub external_id: Option<String>,
    #[arg(long, value_name = "USER_ID")]
    pub owner: Option<UserId>,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub privileged: Option<bool>,
    /// A product permission (roles of the `latchkey` system); repeatable
    #[arg(long = "permission", value_name = "PERMISSION")]
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RoleUpdateArgs {
    pub id: RoleId,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, conflicts_with = "clear_description")]
    pub description: Option<String>,
    #[arg(long)]
    pub clear_description: bool,
    #[arg(long, conflicts_with = "clear_category")]
    pub category: Option<String>,
    #[arg(long)]
    pub clear_category: bool,
    #[arg(long, conflicts_with = "clear_external_id")]
    pub external_id: Option<String>,
    #[arg(long)]
    pub clear_external_id: bool,
    #[arg(long, value_name = "USER_ID", conflicts_with = "clear_owner")]
    pub owner: Option<UserId>,
    #[arg(long)]
    pub clear_owner: bool,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub privileged: Option<bool>,
    /// Replaces the permissions; repeatable
    #[arg(
        long = "permission",
        value_name = "PERMISSION",
        conflicts_with = "clear_permissions"
    )]
    pub permissions: Vec<String>,
    #[arg(long)]
    pub clear_permissions: bool,
    #[command(flatten)]
    pub if_match: IfMatch,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeModeArg {
    Same,
    Fixed,
    None,
}

impl ScopeModeArg {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Same => "same",
            Self::Fixed => "fixed",
            Self::None => "none",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct GrantRoleArgs {
    pub parent: RoleId,
    #[arg(long, value_name = "ROLE_ID")]
    pub child: RoleId,
    /// Every holder of the parent holds the child; it cannot be revoked on its own
    #[arg(long)]
    pub mandatory: bool,
    /// How the child's scope follows from the parent grant's
    #[arg(long, value_enum)]
    pub scope_mode: Option<ScopeModeArg>,
    /// The child's scope with --scope-mode fixed
    #[arg(long)]
    pub scope_value: Option<String>,
}

// ----- grants -----

#[derive(Debug, Subcommand)]
pub enum GrantsCmd {
    /// List grants
    List(GrantListArgs),
    /// Show one grant
    Show { id: GrantId },
    /// Grant a role to a user or a group
    Create(GrantCreateArgs),
    /// Change a grant's dates
    Update(GrantUpdateArgs),
    /// Revoke a grant
    #[command(visible_alias = "delete")]
    Revoke { id: GrantId },
}

#[derive(Debug, Clone, Args)]
pub struct GrantListArgs {
    #[arg(long, value_name = "ROLE_ID")]
    pub role: Option<RoleId>,
    #[arg(long, value_name = "USER_ID")]
    pub user: Option<UserId>,
    #[arg(long, value_name = "GROUP_ID")]
    pub group: Option<GroupId>,
    #[arg(long, value_parser = parse_grant_status)]
    pub status: Option<GrantStatus>,
    #[arg(long, value_parser = parse_grant_origin)]
    pub origin: Option<GrantOrigin>,
    #[command(flatten)]
    pub page: ListArgs,
}

#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("grantee").required(true).args(["user", "group"])))]
pub struct GrantCreateArgs {
    #[arg(long, value_name = "ROLE_ID")]
    pub role: RoleId,
    #[arg(long, value_name = "USER_ID")]
    pub user: Option<UserId>,
    #[arg(long, value_name = "GROUP_ID")]
    pub group: Option<GroupId>,
    /// Scope value, required exactly when the role is scoped
    #[arg(long)]
    pub scope: Option<String>,
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub starts_at: Option<OffsetDateTime>,
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub ends_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Args)]
pub struct GrantUpdateArgs {
    pub id: GrantId,
    #[arg(long, value_name = "RFC3339", value_parser = parse_time, conflicts_with = "clear_starts_at")]
    pub starts_at: Option<OffsetDateTime>,
    #[arg(long)]
    pub clear_starts_at: bool,
    #[arg(long, value_name = "RFC3339", value_parser = parse_time, conflicts_with = "clear_ends_at")]
    pub ends_at: Option<OffsetDateTime>,
    #[arg(long)]
    pub clear_ends_at: bool,
    #[command(flatten)]
    pub if_match: IfMatch,
}

// ----- metadata -----

#[derive(Debug, Subcommand)]
pub enum MetadataCmd {
    /// Custom attribute definitions
    #[command(subcommand)]
    Attributes(AttributesCmd),
    /// User types
    #[command(subcommand)]
    UserTypes(UserTypesCmd),
}

#[derive(Debug, Subcommand)]
pub enum AttributesCmd {
    /// List attribute definitions
    List {
        /// user, group or membership
        #[arg(long, value_parser = parse_object_type)]
        object_type: Option<ObjectType>,
        #[command(flatten)]
        page: ListArgs,
    },
    /// Show one attribute definition
    Show { id: AttributeId },
    /// Create an attribute definition
    Create(AttributeCreateArgs),
    /// Change an attribute definition (only the fields given)
    Update(AttributeUpdateArgs),
    /// Delete an attribute definition
    Delete { id: AttributeId },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ObjectTypeArg {
    User,
    Group,
    Membership,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DataTypeArg {
    String,
    Number,
    Boolean,
    Date,
    Email,
    Reference,
}

impl ObjectTypeArg {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
            Self::Membership => "membership",
        }
    }
}

impl DataTypeArg {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::Email => "email",
            Self::Reference => "reference",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct AttributeCreateArgs {
    #[arg(long, value_enum)]
    pub object_type: ObjectTypeArg,
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub label: Option<String>,
    #[arg(long, value_enum)]
    pub data_type: DataTypeArg,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub required: Option<bool>,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub unique: Option<bool>,
    /// Repeatable; when given, the only values accepted
    #[arg(long = "allowed-value", value_name = "VALUE")]
    pub allowed_values: Vec<String>,
    #[arg(long)]
    pub position: Option<i64>,
}

#[derive(Debug, Clone, Args)]
pub struct AttributeUpdateArgs {
    pub id: AttributeId,
    #[arg(long, conflicts_with = "clear_label")]
    pub label: Option<String>,
    #[arg(long)]
    pub clear_label: bool,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub required: Option<bool>,
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub unique: Option<bool>,
    /// Replaces the allowed values; repeatable
    #[arg(
        long = "allowed-value",
        value_name = "VALUE",
        conflicts_with = "clear_allowed_values"
    )]
    pub allowed_values: Vec<String>,
    #[arg(long)]
    pub clear_allowed_values: bool,
    #[arg(long)]
    pub position: Option<i64>,
    #[command(flatten)]
    pub if_match: IfMatch,
}

#[derive(Debug, Subcommand)]
pub enum UserTypesCmd {
    /// List user types
    List(ListOnly),
    Create {
        #[arg(long)]
        code: String,
        #[arg(long)]
        description: Option<String>,
    },
    Update {
        id: UserTypeId,
        #[arg(long, conflicts_with = "clear_description")]
        description: Option<String>,
        #[arg(long)]
        clear_description: bool,
        #[command(flatten)]
        if_match: IfMatch,
    },
    /// Delete a user type
    Delete { id: UserTypeId },
}

// ----- mail domains -----

#[derive(Debug, Subcommand)]
pub enum MailDomainsCmd {
    /// List mail domains
    List(ListOnly),
    /// Show one mail domain
    Show { id: MailDomainId },
    Create {
        /// The domain, e.g. example.com
        #[arg(long)]
        code: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
        obsolete: Option<bool>,
    },
    Update {
        id: MailDomainId,
        #[arg(long, conflicts_with = "clear_description")]
        description: Option<String>,
        #[arg(long)]
        clear_description: bool,
        #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
        obsolete: Option<bool>,
        #[command(flatten)]
        if_match: IfMatch,
    },
    /// Delete a mail domain
    Delete { id: MailDomainId },
}

// ----- workspaces -----

#[derive(Debug, Subcommand)]
pub enum WorkspacesCmd {
    /// The workspaces you are a member of, with your role
    List,
    /// Show one workspace
    Show { id: WorkspaceId },
    /// Create a workspace (needs `workspaces.create`); you become its owner
    Create {
        name: String,
        /// free (the default), basic, business or enterprise
        #[arg(long, value_parser = parse_plan)]
        plan: Option<Plan>,
    },
    /// Rename a workspace (admin)
    Rename { id: WorkspaceId, name: String },
    /// Change the plan (owner): free, basic, business or enterprise
    Plan {
        id: WorkspaceId,
        #[arg(value_parser = parse_plan)]
        plan: Plan,
    },
    /// Archive a workspace (owner): its content stays readable and nothing changes
    Archive { id: WorkspaceId },
    /// Restore an archived workspace (owner)
    Restore { id: WorkspaceId },
    /// The members and their roles
    Members { id: WorkspaceId },
    /// Add a user of the organisation at a role (admin; owner to add an owner)
    AddMember {
        id: WorkspaceId,
        #[arg(long, value_name = "USER_ID")]
        user: UserId,
        /// owner, admin, editor, viewer or agent_only
        #[arg(long, value_parser = parse_member_role)]
        role: MemberRole,
    },
    /// Change a member's role (admin; owner for owners); the last owner stays an owner
    SetRole {
        id: WorkspaceId,
        #[arg(value_name = "USER_ID")]
        user: UserId,
        /// owner, admin, editor, viewer or agent_only
        #[arg(value_parser = parse_member_role)]
        role: MemberRole,
    },
    /// Remove a member (admin; owner for owners)
    RemoveMember {
        id: WorkspaceId,
        #[arg(value_name = "USER_ID")]
        user: UserId,
    },
    /// Leave a workspace; the last owner cannot
    Leave { id: WorkspaceId },
    /// Invite someone by email at a role (admin); an address that is already a member's
    /// changes their role instead. Members and pending invitations count against the plan
    Invite {
        id: WorkspaceId,
        email: String,
        /// owner, admin, editor, viewer or agent_only
        #[arg(long, value_parser = parse_member_role)]
        role: MemberRole,
    },
    /// The workspace's invitations, newest first (admin)
    Invitations { id: WorkspaceId },
    /// Revoke a pending invitation (admin)
    RevokeInvitation {
        id: WorkspaceId,
        invitation_id: WorkspaceInvitationId,
    },
    /// Join a workspace with the token (or the whole link) of an invitation to your address
    AcceptInvitation {
        // Not `token`: that is the id of the global `--token`.
        #[arg(value_name = "TOKEN")]
        invitation: String,
    },
    /// Teams with their members
    Teams { id: WorkspaceId },
    /// Create a team (admin)
    TeamCreate {
        id: WorkspaceId,
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// Add a member of the workspace to a team (admin)
    TeamAdd {
        id: WorkspaceId,
        #[arg(value_name = "TEAM_ID")]
        team: TeamId,
        #[arg(value_name = "USER_ID")]
        user: UserId,
    },
    /// Remove someone from a team (admin)
    TeamRemove {
        id: WorkspaceId,
        #[arg(value_name = "TEAM_ID")]
        team: TeamId,
        #[arg(value_name = "USER_ID")]
        user: UserId,
    },
    /// Delete a team (admin)
    TeamDelete {
        id: WorkspaceId,
        #[arg(value_name = "TEAM_ID")]
        team: TeamId,
    },
    /// The folders your role sees
    Folders { id: WorkspaceId },
    /// Create a folder (editor)
    FolderCreate(FolderCreateArgs),
    /// Rename, move or change the visibility of a folder (editor; only the fields given)
    FolderUpdate(FolderUpdateArgs),
    /// Delete an empty folder (editor)
    FolderDelete {
        id: WorkspaceId,
        #[arg(value_name = "FOLDER_ID")]
        folder: FolderId,
    },
    /// The documents your role sees, in creation order
    Documents(DocumentListArgs),
    /// Create a document in a folder (editor)
    DocumentCreate(DocumentCreateArgs),
    /// Show one document, with its body
    DocumentShow {
        id: WorkspaceId,
        #[arg(value_name = "DOCUMENT_ID")]
        document: DocumentId,
    },
    /// Delete a document (editor)
    DocumentDelete {
        id: WorkspaceId,
        #[arg(value_name = "DOCUMENT_ID")]
        document: DocumentId,
    },
    /// The workspace's API keys, revoked ones included (admin); never their secrets
    ApiKeys { id: WorkspaceId },
    /// Create a read-only API key (admin; Business plan and above); the secret is printed once
    ApiKeyCreate {
        id: WorkspaceId,
        name: String,
        /// The key's role, at most yours (the public read API shows only what every member
        /// sees, whatever the role)
        #[arg(long, value_parser = parse_member_role)]
        role: MemberRole,
    },
    /// Revoke an API key (admin)
    ApiKeyRevoke {
        id: WorkspaceId,
        #[arg(value_name = "KEY_ID")]
        key: WorkspaceKeyId,
    },
}

#[derive(Debug, Clone, Args)]
pub struct FolderCreateArgs {
    pub id: WorkspaceId,
    pub name: String,
    /// Create it inside this folder
    #[arg(long, value_name = "FOLDER_ID")]
    pub parent: Option<FolderId>,
    /// workspace (every member; the default) or role (members at or above --min-role)
    #[arg(long, value_parser = parse_visibility)]
    pub visibility: Option<Visibility>,
    /// The lowest role that sees a `role` folder; implies --visibility role
    #[arg(long, value_parser = parse_member_role)]
    pub min_role: Option<MemberRole>,
}

#[derive(Debug, Clone, Args)]
pub struct FolderUpdateArgs {
    pub id: WorkspaceId,
    #[arg(value_name = "FOLDER_ID")]
    pub folder: FolderId,
    #[arg(long)]
    pub name: Option<String>,
    /// Move it inside this folder
    #[arg(long, value_name = "FOLDER_ID", conflicts_with = "top")]
    pub parent: Option<FolderId>,
    /// Move it to the top
    #[arg(long)]
    pub top: bool,
    /// workspace or role
    #[arg(long, value_parser = parse_visibility)]
    pub visibility: Option<Visibility>,
    /// The lowest role that sees a `role` folder
    #[arg(long, value_parser = parse_member_role)]
    pub min_role: Option<MemberRole>,
}

#[derive(Debug, Clone, Args)]
pub struct DocumentListArgs {
    pub id: WorkspaceId,
    /// Only the documents of this folder
    #[arg(long, value_name = "FOLDER_ID")]
    pub folder: Option<FolderId>,
    /// Free text over title and body
    #[arg(short, long, visible_alias = "q", value_name = "TEXT")]
    pub query: Option<String>,
    /// The document an application registered under this id
    #[arg(long)]
    pub external_id: Option<String>,
    /// Items per page
    #[arg(long, help_heading = "Paging")]
    pub limit: Option<u32>,
    /// Continue from this cursor (printed after a page)
    #[arg(long, conflicts_with = "all", help_heading = "Paging")]
    pub cursor: Option<String>,
    /// Follow cursors and print every document
    #[arg(long, help_heading = "Paging")]
    pub all: bool,
}

#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("content").args(["body", "body_file"])))]
pub struct DocumentCreateArgs {
    pub id: WorkspaceId,
    #[arg(long, value_name = "FOLDER_ID")]
    pub folder: FolderId,
    #[arg(long)]
    pub title: String,
    /// The body as text
    #[arg(long)]
    pub body: Option<String>,
    /// Read the body from this file
    #[arg(long, value_name = "PATH")]
    pub body_file: Option<PathBuf>,
    /// The id of the item in the application that registers it, unique in the workspace
    #[arg(long)]
    pub external_id: Option<String>,
}

// ----- effective roles, import, export -----

#[derive(Debug, Clone, Args)]
pub struct EffectiveRolesArgs {
    pub user_id: UserId,
    /// The instant to look at (default: now)
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("question").required(true).args(["role", "permission"])))]
pub struct CheckArgs {
    pub user_id: UserId,
    /// A role id
    #[arg(long, value_name = "ROLE_ID")]
    pub role: Option<latchkey_model::RoleId>,
    /// A product permission (`users.view`, ...)
    #[arg(long)]
    pub permission: Option<String>,
    /// The scope value, when the role or permission is scoped
    #[arg(long)]
    pub scope: Option<String>,
    /// Show every path that grants it
    #[arg(long)]
    pub explain: bool,
    /// The instant to ask about (default: now)
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["kind", "bulk"])))]
pub struct ImportArgs {
    /// users, groups, memberships, roles or grants
    #[arg(requires = "file")]
    pub kind: Option<ImportKind>,
    /// The CSV file
    pub file: Option<PathBuf>,
    /// Check every row and report, writing nothing
    #[arg(long, conflicts_with = "bulk")]
    pub dry_run: bool,
    /// Load an NDJSON file of records through `POST /api/v1/bulk` (see the README)
    #[arg(long, value_name = "FILE", conflicts_with = "kind")]
    pub bulk: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportKind {
    Users,
    Groups,
    Memberships,
    Systems,
    Roles,
    Grants,
    Audit,
}

impl ExportKind {
    /// The collection's path under `/api/v1`.
    pub const fn path(self) -> &'static str {
        match self {
            Self::Users => "/api/v1/users",
            Self::Groups => "/api/v1/groups",
            Self::Memberships => "/api/v1/memberships",
            Self::Systems => "/api/v1/systems",
            Self::Roles => "/api/v1/roles",
            Self::Grants => "/api/v1/grants",
            Self::Audit => "/api/v1/audit",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[arg(value_enum)]
    pub kind: ExportKind,
    /// Write to this file instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

// ----- audit and tokens -----

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// List audit entries
    List(AuditListArgs),
    /// Recompute the audit hash chain; exits 1 when it is broken
    Verify,
}

#[derive(Debug, Clone, Args)]
pub struct AuditListArgs {
    #[arg(long)]
    pub object_type: Option<String>,
    #[arg(long)]
    pub object_id: Option<String>,
    #[arg(long, value_name = "USER_ID")]
    pub actor: Option<UserId>,
    /// e.g. user.create
    #[arg(long)]
    pub action: Option<String>,
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub from: Option<OffsetDateTime>,
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub to: Option<OffsetDateTime>,
    #[command(flatten)]
    pub page: ListArgs,
}

#[derive(Debug, Subcommand)]
pub enum TokensCmd {
    /// List your tokens
    List(ListOnly),
    /// Create a token (its secret is printed once)
    Create {
        name: String,
        #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
        expires_at: Option<OffsetDateTime>,
    },
    /// Revoke one of your tokens
    Revoke { id: TokenId },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use clap::error::ErrorKind;

    const ID: &str = "0190a4b2-0000-7000-8000-000000000001";
    const ID2: &str = "0190a4b2-0000-7000-8000-000000000002";

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("latchkey").chain(args.iter().copied()))
    }

    #[test]
    fn the_grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_go_anywhere() {
        let cli = parse(&[
            "users",
            "list",
            "--json",
            "--url",
            "http://h:1",
            "--token",
            "lk_a",
            "--all",
        ])
        .unwrap();
        assert!(cli.global.json);
        assert_eq!(cli.global.url.as_deref(), Some("http://h:1"));
        assert_eq!(cli.global.token.as_deref(), Some("lk_a"));
        let Command::Users(UsersCmd::List(args)) = cli.command else {
            panic!("not users list")
        };
        assert!(args.page.all);
    }

    #[test]
    fn user_create_collects_repeated_flags_and_attributes() {
        let cli = parse(&[
            "users",
            "create",
            "--user-name",
            "ana",
            "--first-name",
            "Ana",
            "--last-name",
            "Diaz",
            "--primary-group",
            ID,
            "--mail-alias",
            "a@x.org",
            "--mail-alias",
            "b@x.org",
            "--attr",
            "age=42",
            "--attr",
            "city=Lyon",
            "--enabled=false",
            "--multi-session",
        ])
        .unwrap();
        let Command::Users(UsersCmd::Create(args)) = cli.command else {
            panic!("not users create")
        };
        assert_eq!(args.mail_aliases, vec!["a@x.org", "b@x.org"]);
        assert_eq!(args.attrs.len(), 2);
        assert_eq!(args.attrs[0].value, serde_json::json!(42));
        assert_eq!(args.enabled, Some(false));
        assert_eq!(args.multi_session, Some(true));
        assert_eq!(args.primary_group.to_string(), ID);
    }

    #[test]
    fn required_fields_and_ids_are_checked() {
        let err = parse(&["users", "create", "--user-name", "ana"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingRequiredArgument);
        let err = parse(&["users", "show", "not-a-uuid"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ValueValidation);
        let err = parse(&[
            "users",
            "create",
            "--user-name",
            "a",
            "--first-name",
            "A",
            "--last-name",
            "B",
            "--primary-group",
            ID,
            "--attr",
            "oops",
        ])
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ValueValidation);
    }

    #[test]
    fn a_field_cannot_be_set_and_cleared() {
        let err =
            parse(&["users", "update", ID, "--email", "a@x.org", "--clear-email"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ArgumentConflict);
        let cli = parse(&[
            "groups",
            "update",
            ID,
            "--clear-parent",
            "--if-match",
            "\"4\"",
        ])
        .unwrap();
        let Command::Groups(GroupsCmd::Update(args)) = cli.command else {
            panic!("not groups update")
        };
        assert!(args.clear_parent);
        assert_eq!(args.if_match.if_match, Some(4));
    }

    #[test]
    fn grants_need_exactly_one_grantee() {
        let err = parse(&["grants", "create", "--role", ID]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingRequiredArgument);
        let err = parse(&[
            "grants", "create", "--role", ID, "--user", ID2, "--group", ID2,
        ])
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ArgumentConflict);
        let cli = parse(&[
            "grants",
            "create",
            "--role",
            ID,
            "--group",
            ID2,
            "--scope",
            "EMEA",
            "--ends-at",
            "2027-01-01",
        ])
        .unwrap();
        let Command::Grants(GrantsCmd::Create(args)) = cli.command else {
            panic!("not grants create")
        };
        assert_eq!(args.scope.as_deref(), Some("EMEA"));
        assert!(args.ends_at.is_some());
        assert!(matches!(
            parse(&["grants", "delete", ID]).unwrap().command,
            Command::Grants(GrantsCmd::Revoke { .. })
        ));
        let cli = parse(&["grants", "list", "--status", "pending_approval"]).unwrap();
        let Command::Grants(GrantsCmd::List(args)) = cli.command else {
            panic!("not grants list")
        };
        assert_eq!(args.status, Some(GrantStatus::PendingApproval));
        assert!(parse(&["grants", "list", "--status", "nope"]).is_err());
    }

    #[test]
    fn roles_subcommands_parse() {
        let cli = parse(&[
            "roles",
            "grant-role",
            ID,
            "--child",
            ID2,
            "--mandatory",
            "--scope-mode",
            "fixed",
            "--scope-value",
            "EMEA",
        ])
        .unwrap();
        let Command::Roles(RolesCmd::GrantRole(args)) = cli.command else {
            panic!("not grant-role")
        };
        assert!(args.mandatory);
        assert!(matches!(args.scope_mode, Some(ScopeModeArg::Fixed)));
        let cli = parse(&["roles", "holders", ID, "--at", "2026-05-01T12:00:00+02:00"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Roles(RolesCmd::Holders { at: Some(_), .. })
        ));
        assert!(parse(&["roles", "granted-roles", ID]).is_ok());
    }

    #[test]
    fn nested_and_misc_commands_parse() {
        assert!(
            parse(&[
                "metadata",
                "attributes",
                "create",
                "--object-type",
                "user",
                "--name",
                "badge",
                "--data-type",
                "number",
                "--required"
            ])
            .is_ok()
        );
        assert!(parse(&["metadata", "user-types", "create", "--code", "contractor"]).is_ok());
        assert!(parse(&["mail-domains", "create", "--code", "example.com"]).is_ok());
        assert!(
            parse(&[
                "systems",
                "add-domain",
                ID,
                "--name",
                "region",
                "--value",
                "EMEA=Europe",
                "--value",
                "APAC"
            ])
            .is_ok()
        );
        assert!(parse(&["effective-roles", ID, "--at", "2026-01-01T00:00:00Z"]).is_ok());
        assert!(
            parse(&[
                "organisations",
                "create",
                "--name",
                "Acme",
                "--slug",
                "acme"
            ])
            .is_ok()
        );
        assert!(parse(&["tokens", "create", "ci", "--expires-at", "2027-01-01"]).is_ok());
        assert!(parse(&["audit", "verify"]).is_ok());
        assert!(matches!(
            parse(&["login", "--url", "http://h", "--token", "t"])
                .unwrap()
                .command,
            Command::Login
        ));
    }

    #[test]
    fn workspaces_subcommands_parse() {
        let cli = parse(&["workspaces", "create", "Ops", "--plan", "basic"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Workspaces(WorkspacesCmd::Create {
                plan: Some(Plan::Basic),
                ..
            })
        ));
        assert_eq!(
            parse(&["workspaces", "create", "Ops", "--plan", "gold"])
                .unwrap_err()
                .kind(),
            ErrorKind::ValueValidation
        );
        let cli = parse(&[
            "workspaces",
            "add-member",
            ID,
            "--user",
            ID2,
            "--role",
            "agent_only",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Command::Workspaces(WorkspacesCmd::AddMember {
                role: MemberRole::AgentOnly,
                ..
            })
        ));
        assert!(parse(&["workspaces", "set-role", ID, ID2, "viewer"]).is_ok());
        assert!(parse(&["workspaces", "plan", ID, "business"]).is_ok());
        assert!(parse(&["workspaces", "invite", ID, "a@x.org", "--role", "editor"]).is_ok());
        let cli = parse(&[
            "workspaces",
            "accept-invitation",
            "lkwi_x",
            "--token",
            "lk_t",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Command::Workspaces(WorkspacesCmd::AcceptInvitation { invitation }) if invitation == "lkwi_x"
        ));
        assert_eq!(cli.global.token.as_deref(), Some("lk_t"));
        assert!(parse(&["workspaces", "team-add", ID, ID2, ID2]).is_ok());
        let err = parse(&[
            "workspaces",
            "folder-update",
            ID,
            ID2,
            "--parent",
            ID,
            "--top",
        ])
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ArgumentConflict);
        let cli = parse(&[
            "workspaces",
            "folder-create",
            ID,
            "Security",
            "--visibility",
            "role",
            "--min-role",
            "admin",
        ])
        .unwrap();
        let Command::Workspaces(WorkspacesCmd::FolderCreate(args)) = cli.command else {
            panic!("not folder-create")
        };
        assert_eq!(args.visibility, Some(Visibility::Role));
        assert_eq!(args.min_role, Some(MemberRole::Admin));
        for q in ["--q", "--query", "-q"] {
            let cli = parse(&["workspaces", "documents", ID, q, "breach", "--all"]).unwrap();
            let Command::Workspaces(WorkspacesCmd::Documents(args)) = cli.command else {
                panic!("not documents")
            };
            assert_eq!(args.query.as_deref(), Some("breach"));
            assert!(args.all);
        }
        let err = parse(&[
            "workspaces",
            "document-create",
            ID,
            "--folder",
            ID2,
            "--title",
            "T",
            "--body",
            "b",
            "--body-file",
            "b.md",
        ])
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ArgumentConflict);
        assert!(parse(&["workspaces", "api-key-create", ID, "ci", "--role", "viewer"]).is_ok());
        let cli = parse(&["users", "access", ID, "--workspace", ID2, "--folder", ID]).unwrap();
        let Command::Users(UsersCmd::Access(args)) = cli.command else {
            panic!("not users access")
        };
        assert_eq!(args.folder.map(|f| f.to_string()).as_deref(), Some(ID));
        assert_eq!(
            parse(&["users", "access", ID]).unwrap_err().kind(),
            ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn import_and_export_parse_their_kinds() {
        let cli = parse(&["import", "users", "people.csv", "--dry-run"]).unwrap();
        let Command::Import(args) = cli.command else {
            panic!("not import")
        };
        assert_eq!(args.kind, Some(ImportKind::Users));
        assert!(args.dry_run);
        assert!(parse(&["import", "systems", "x.csv"]).is_err());
        let cli = parse(&["import", "--bulk", "org.ndjson"]).unwrap();
        let Command::Import(args) = cli.command else {
            panic!("not import")
        };
        assert_eq!(args.bulk, Some(PathBuf::from("org.ndjson")));
        assert!(parse(&["import"]).is_err(), "a kind and file, or --bulk");
        assert!(parse(&["import", "users"]).is_err(), "a kind needs a file");
        assert!(parse(&["import", "--bulk", "a.ndjson", "--dry-run"]).is_err());
        let cli = parse(&["export", "audit", "-o", "audit.csv"]).unwrap();
        let Command::Export(args) = cli.command else {
            panic!("not export")
        };
        assert_eq!(args.kind, ExportKind::Audit);
        assert_eq!(args.output, Some(PathBuf::from("audit.csv")));
    }

    #[test]
    fn serve_flags_parse() {
        let cli = parse(&[
            "serve",
            "--listen",
            "0.0.0.0:9000",
            "--data-dir",
            "/tmp/lk",
            "--database-url",
            "sqlite://x.db",
            "--config",
            "lk.toml",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(args.listen.as_deref(), Some("0.0.0.0:9000"));
        assert_eq!(args.data_dir, Some(PathBuf::from("/tmp/lk")));
        assert_eq!(args.config, Some(PathBuf::from("lk.toml")));
    }
}
