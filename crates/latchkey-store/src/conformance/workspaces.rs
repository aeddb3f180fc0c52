//! Conformance story of workspaces and their content: exact round trips, member and owner
//! counts, pending invitations, the stored visibility filter of document lists (with
//! search and keyset paging), unique team names and external ids, keys found by hash,
//! items, ownership hand-over and tombstones; and the isolation of workspaces from each
//! other and of organisations: an id from elsewhere reads as nothing and writes nothing.

use latchkey_model::{
    DeletedUser, Document, DocumentId, Folder, FolderId, Item, ItemId, ItemKind, MemberRole, OrgId,
    Plan, Team, TeamId, UserId, Visibility, Workspace, WorkspaceId, WorkspaceInvitation,
    WorkspaceInvitationId, WorkspaceKey, WorkspaceKeyId, WorkspaceMember,
};

use super::{at, begin, commit, conflict, ok, org_with_group, read, user_value, uuid};
use crate::{DocumentQuery, Store};

fn workspace_value(org: OrgId, owner: UserId, name: &str) -> Workspace {
    Workspace {
        id: WorkspaceId::from_uuid(uuid()),
        org_id: org,
        name: name.to_owned(),
        plan: Plan::Business,
        owner_id: owner,
        archived_at: None,
        created_at: at(0),
        created_by: owner,
        updated_at: at(0),
    }
}

fn member(w: &Workspace, user: UserId, role: MemberRole) -> WorkspaceMember {
    WorkspaceMember {
        workspace_id: w.id,
        org_id: w.org_id,
        user_id: user,
        role,
        joined_at: at(1),
        added_by: w.owner_id,
    }
}

fn folder_value(w: &Workspace, name: &str, effective: MemberRole) -> Folder {
    Folder {
        id: FolderId::from_uuid(uuid()),
        org_id: w.org_id,
        workspace_id: w.id,
        parent_id: None,
        name: name.to_owned(),
        visibility: if effective == MemberRole::AgentOnly {
            Visibility::Workspace
        } else {
            Visibility::Role
        },
        min_role: (effective != MemberRole::AgentOnly).then_some(effective),
        effective_min_role: effective,
        owner_id: w.owner_id,
        created_at: at(2),
        updated_at: at(2),
    }
}

fn document_value(f: &Folder, title: &str) -> Document {
    Document {
        id: DocumentId::from_uuid(uuid()),
        org_id: f.org_id,
        workspace_id: f.workspace_id,
        folder_id: f.id,
        title: title.to_owned(),
        body: format!("the body of {title}, with ünïcode"),
        metadata: serde_json::json!({ "source": "story", "n": 1 }),
        external_id: None,
        owner_id: f.owner_id,
        created_at: at(3),
        updated_at: at(3),
        version: 1,
    }
}

fn query(reader: MemberRole) -> DocumentQuery {
    DocumentQuery {
        reader,
        folder: None,
        q: None,
        external_id: None,
        after: None,
        limit: 100,
    }
}

pub async fn workspaces(store: &dyn Store) {
    let (a, ga) = org_with_group(store).await;
    let (b, gb) = org_with_group(store).await;
    let owner = user_value(a.id, "owner", ga.id);
    let viewer = user_value(a.id, "viewer", ga.id);
    let heir = user_value(a.id, "heir", ga.id);
    let stranger = user_value(b.id, "owner", gb.id);
    let mut tx = begin(store).await;
    for u in [&owner, &viewer, &heir, &stranger] {
        ok(tx.insert_user(u).await, "insert user");
    }
    commit(tx).await;

    let ws = workspace_value(a.id, owner.id, "Ops");
    let other_ws = workspace_value(a.id, owner.id, "Elsewhere");
    let b_ws = workspace_value(b.id, stranger.id, "Ops");
    let open = folder_value(&ws, "Open", MemberRole::AgentOnly);
    let closed = folder_value(&ws, "Closed", MemberRole::Admin);
    let mut docs: Vec<Document> = (0..5)
        .map(|i| document_value(&open, &format!("open {i}")))
        .collect();
    docs.push(document_value(&closed, "closed secret"));
    docs[0].external_id = Some("app:1".to_owned());
    let mut tx = begin(store).await;
    for w in [&ws, &other_ws, &b_ws] {
        ok(tx.insert_workspace(w).await, "insert workspace");
    }
    ok(
        tx.put_member(&member(&ws, owner.id, MemberRole::Owner))
            .await,
        "owner",
    );
    ok(
        tx.put_member(&member(&ws, viewer.id, MemberRole::Editor))
            .await,
        "viewer",
    );
    // Adding again changes the role.
    ok(
        tx.put_member(&member(&ws, viewer.id, MemberRole::Viewer))
            .await,
        "re-role",
    );
    ok(tx.insert_folder(&open).await, "insert open folder");
    ok(tx.insert_folder(&closed).await, "insert closed folder");
    ok(tx.insert_documents(&docs).await, "insert documents");
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_workspace(a.id, ws.id).await, "get"),
        Some(ws.clone())
    );
    assert_eq!(
        ok(tx.get_folder(a.id, ws.id, closed.id).await, "get folder"),
        Some(closed.clone())
    );
    assert_eq!(
        ok(
            tx.get_document(a.id, ws.id, docs[5].id).await,
            "get document"
        ),
        Some(docs[5].clone())
    );
    assert_eq!(ok(tx.count_members(a.id, ws.id).await, "count"), (2, 1));
    let mine = ok(tx.workspaces_of(a.id, viewer.id).await, "workspaces of");
    assert_eq!(mine, vec![(ws.clone(), MemberRole::Viewer)]);
    // The stored visibility filter, search and paging.
    let seen = ok(
        tx.list_documents(a.id, ws.id, &query(MemberRole::Viewer))
            .await,
        "viewer list",
    );
    assert_eq!(seen.items, docs[..5].to_vec());
    let all = ok(
        tx.list_documents(a.id, ws.id, &query(MemberRole::Owner))
            .await,
        "owner list",
    );
    assert_eq!(all.items.len(), 6);
    let mut q = query(MemberRole::Viewer);
    q.q = Some("SECRET".to_owned());
    assert!(
        ok(tx.list_documents(a.id, ws.id, &q).await, "hidden search")
            .items
            .is_empty()
    );
    q.reader = MemberRole::Admin;
    assert_eq!(
        ok(tx.list_documents(a.id, ws.id, &q).await, "search").items,
        vec![docs[5].clone()]
    );
    let mut page = query(MemberRole::Viewer);
    page.limit = 2;
    let first = ok(tx.list_documents(a.id, ws.id, &page).await, "page 1");
    assert!(first.has_more && first.items == docs[..2].to_vec());
    page.after = Some(docs[3].id);
    let last = ok(tx.list_documents(a.id, ws.id, &page).await, "last page");
    assert!(!last.has_more && last.items == vec![docs[4].clone()]);
    let mut by_ext = query(MemberRole::AgentOnly);
    by_ext.external_id = Some("app:1".to_owned());
    assert_eq!(
        ok(tx.list_documents(a.id, ws.id, &by_ext).await, "external").items,
        vec![docs[0].clone()]
    );
    // Isolation: another organisation, or another workspace, sees nothing of these.
    assert_eq!(
        ok(tx.get_workspace(b.id, ws.id).await, "cross-org workspace"),
        None
    );
    assert_eq!(
        ok(
            tx.get_folder(b.id, ws.id, open.id).await,
            "cross-org folder"
        ),
        None
    );
    assert_eq!(
        ok(
            tx.get_document(a.id, other_ws.id, docs[0].id).await,
            "cross-workspace document"
        ),
        None
    );
    assert_eq!(
        ok(
            tx.get_folder(a.id, other_ws.id, open.id).await,
            "cross-workspace folder"
        ),
        None
    );
    assert!(
        ok(
            tx.list_documents(b.id, ws.id, &query(MemberRole::Owner))
                .await,
            "cross-org list"
        )
        .items
        .is_empty()
    );
    assert!(ok(tx.list_members(b.id, ws.id).await, "cross-org members").is_empty());
    assert!(
        ok(
            tx.list_folders(a.id, other_ws.id).await,
            "other workspace folders"
        )
        .is_empty()
    );
    drop(tx);

    let mut tx = begin(store).await;
    assert!(!ok(
        tx.delete_document(b.id, ws.id, docs[0].id).await,
        "cross-org delete"
    ));
    assert!(!ok(
        tx.delete_member(b.id, ws.id, owner.id).await,
        "cross-org member delete"
    ));
    assert!(!ok(
        tx.delete_folder(a.id, other_ws.id, open.id).await,
        "cross-workspace folder delete"
    ));
    let mut dup = document_value(&open, "again");
    dup.external_id = Some("app:1".to_owned());
    conflict(
        tx.insert_document(&dup).await,
        "documents.external_id",
        "external id twice",
    );
    drop(tx);

    // Teams: names unique per workspace without case; only members join.
    let team = |w: &Workspace, name: &str| Team {
        id: TeamId::from_uuid(uuid()),
        org_id: w.org_id,
        workspace_id: w.id,
        name: name.to_owned(),
        description: None,
        created_at: at(4),
    };
    let night = team(&ws, "Night");
    let mut tx = begin(store).await;
    ok(tx.insert_team(&night).await, "insert team");
    ok(
        tx.insert_team(&team(&other_ws, "night")).await,
        "same name, other workspace",
    );
    assert!(ok(
        tx.add_team_member(a.id, ws.id, night.id, viewer.id, at(5))
            .await,
        "join"
    ));
    assert!(!ok(
        tx.add_team_member(a.id, ws.id, night.id, heir.id, at(5))
            .await,
        "not a member"
    ));
    commit(tx).await;
    let mut tx = begin(store).await;
    conflict(
        tx.insert_team(&team(&ws, "NIGHT")).await,
        "workspace_teams.name",
        "team name twice",
    );
    drop(tx);
    let mut tx = begin(store).await;
    ok(tx.delete_member(a.id, ws.id, viewer.id).await, "leave");
    assert!(
        ok(
            tx.team_members(a.id, ws.id, night.id).await,
            "team after leaving"
        )
        .is_empty()
    );
    commit(tx).await;

    // Invitations: pending ones count until accepted, revoked or expired.
    let invitation = WorkspaceInvitation {
        id: WorkspaceInvitationId::from_uuid(uuid()),
        org_id: a.id,
        workspace_id: ws.id,
        email: "New@Example.com".to_owned(),
        role: MemberRole::Viewer,
        token_hash: format!("ws-invitation-{}", uuid()),
        invited_by: owner.id,
        created_at: at(10),
        expires_at: at(100),
        accepted_at: None,
        user_id: None,
        revoked_at: None,
    };
    let mut tx = begin(store).await;
    ok(
        tx.insert_workspace_invitation(&invitation).await,
        "insert invitation",
    );
    assert_eq!(
        ok(
            tx.count_pending_workspace_invitations(a.id, ws.id, at(50))
                .await,
            "pending"
        ),
        1
    );
    assert_eq!(
        ok(
            tx.count_pending_workspace_invitations(a.id, ws.id, at(100))
                .await,
            "expired"
        ),
        0
    );
    assert_eq!(
        ok(
            tx.list_workspace_invitations(a.id, ws.id, Some("new@example.com"))
                .await,
            "by email"
        )
        .len(),
        1
    );
    assert_eq!(
        ok(
            tx.find_workspace_invitation_by_hash(&invitation.token_hash)
                .await,
            "by hash"
        ),
        Some(invitation.clone())
    );
    assert!(!ok(
        tx.close_workspace_invitation(b.id, invitation.id, None, at(20))
            .await,
        "cross-org revoke"
    ));
    assert!(ok(
        tx.close_workspace_invitation(a.id, invitation.id, Some(heir.id), at(20))
            .await,
        "accept"
    ));
    assert!(!ok(
        tx.close_workspace_invitation(a.id, invitation.id, None, at(21))
            .await,
        "closed once"
    ));
    assert_eq!(
        ok(
            tx.count_pending_workspace_invitations(a.id, ws.id, at(50))
                .await,
            "accepted"
        ),
        0
    );
    commit(tx).await;

    // Keys: found by hash across organisations, revoked once.
    let key = WorkspaceKey {
        id: WorkspaceKeyId::from_uuid(uuid()),
        org_id: a.id,
        workspace_id: ws.id,
        name: "ci".to_owned(),
        role: MemberRole::Viewer,
        prefix: "lkw_abcdefgh".to_owned(),
        token_hash: format!("ws-key-{}", uuid()),
        created_by: owner.id,
        created_at: at(30),
        last_used_at: None,
        revoked_at: None,
        revoked_by: None,
    };
    let mut tx = begin(store).await;
    ok(tx.insert_workspace_key(&key).await, "insert key");
    assert_eq!(
        ok(
            tx.find_workspace_key_by_hash(&key.token_hash).await,
            "key by hash"
        ),
        Some(key.clone())
    );
    assert_eq!(
        ok(
            tx.get_workspace_key(b.id, ws.id, key.id).await,
            "cross-org key"
        ),
        None
    );
    ok(tx.touch_workspace_key(a.id, key.id, at(31)).await, "touch");
    assert_eq!(
        ok(
            tx.revoke_workspace_keys_of(a.id, owner.id, at(32), owner.id)
                .await,
            "revoke all"
        ),
        1
    );
    assert!(!ok(
        tx.revoke_workspace_key(a.id, key.id, at(33), owner.id)
            .await,
        "revoked once"
    ));
    let stored = ok(tx.get_workspace_key(a.id, ws.id, key.id).await, "key").unwrap();
    assert_eq!(
        (stored.last_used_at, stored.revoked_at),
        (Some(at(31)), Some(at(32)))
    );
    commit(tx).await;

    // Items, sharing, and the hand-over of everything a user owns.
    let item = Item {
        id: ItemId::from_uuid(uuid()),
        org_id: a.id,
        workspace_id: Some(ws.id),
        kind: ItemKind::Orchestration,
        name: "Nightly".to_owned(),
        owner_id: owner.id,
        published_at: None,
        published_by: None,
        created_at: at(40),
        updated_at: at(40),
    };
    let mut tx = begin(store).await;
    assert!(ok(tx.unrestricted_sharing(a.id).await, "sharing default"));
    ok(
        tx.set_unrestricted_sharing(a.id, false, at(41), owner.id)
            .await,
        "sharing off",
    );
    assert!(!ok(tx.unrestricted_sharing(a.id).await, "sharing off read"));
    assert!(ok(
        tx.unrestricted_sharing(b.id).await,
        "other organisation untouched"
    ));
    ok(tx.insert_item(&item).await, "insert item");
    assert!(ok(
        tx.add_collaborator(a.id, item.id, viewer.id, at(42), owner.id)
            .await,
        "share"
    ));
    assert_eq!(
        ok(tx.items_for(a.id, viewer.id).await, "shared items"),
        vec![item.clone()]
    );
    assert!(ok(tx.items_for(a.id, heir.id).await, "not shared").is_empty());
    let owned = ok(tx.owned_content(a.id, owner.id).await, "owned");
    assert_eq!(
        (
            owned.workspaces.len(),
            owned.folders.len(),
            owned.documents.len(),
            owned.items.len()
        ),
        (2, 2, 6, 1)
    );
    assert!(ok(tx.owned_content(b.id, owner.id).await, "cross-org owned").is_empty());
    assert_eq!(
        ok(
            tx.reassign_content(a.id, owner.id, heir.id).await,
            "reassign"
        ),
        11
    );
    assert!(ok(tx.owned_content(a.id, owner.id).await, "nothing left").is_empty());
    assert_eq!(
        ok(tx.get_item(a.id, item.id).await, "item")
            .unwrap()
            .owner_id,
        heir.id
    );
    let tombstone = DeletedUser {
        id: viewer.id,
        org_id: a.id,
        user_name: viewer.user_name.clone(),
        full_name: viewer.full_name.clone(),
        email: viewer.email.clone(),
        deleted_at: at(50),
        deleted_by: Some(owner.id),
        reassigned_to: Some(heir.id),
    };
    ok(tx.insert_deleted_user(&tombstone).await, "tombstone");
    assert_eq!(
        ok(tx.deleted_users(a.id).await, "tombstones"),
        vec![tombstone]
    );
    assert!(
        ok(
            tx.deleted_users(b.id).await,
            "other organisation's tombstones"
        )
        .is_empty()
    );
    assert_eq!(
        ok(
            tx.remove_from_workspaces(a.id, owner.id).await,
            "remove everywhere"
        ),
        1
    );
    commit(tx).await;
}
