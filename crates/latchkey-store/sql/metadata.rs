//! Organisation settings: custom attribute definitions and the index of their values,
//! user types and mail domains.

use async_trait::async_trait;
use latchkey_model::{
    AttributeDefinition, AttributeId, AttributeType, MailDomain, MailDomainId, ObjectType, OrgId,
    UserType, UserTypeId,
};
use latchkey_store::{MailDomainStore, MetadataStore, StoreResult};
use uuid::Uuid;

use super::catalog::delete_row;
use super::convert::{Cols, DbRow, Query, bind_stamps, to_json};
use super::{SqlTx, map_err, updated};

macro_rules! attribute_cols {
    () => {
        concat!(
            "id, org_id, object_type, name, label, data_type, required, is_unique, ",
            "allowed_values, position, ",
            stamp_cols!()
        )
    };
}

fn attribute(row: &DbRow) -> StoreResult<AttributeDefinition> {
    let c = Cols(row);
    Ok(AttributeDefinition {
        id: AttributeId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        object_type: c.named("object_type", ObjectType::parse)?,
        name: c.text("name")?,
        label: c.opt_text("label")?,
        data_type: c.named("data_type", AttributeType::parse)?,
        required: c.flag("required")?,
        unique: c.flag("is_unique")?,
        allowed_values: c.json("allowed_values")?,
        position: c.int("position")?,
        stamps: c.stamps()?,
    })
}

/// Binds `$1..$15` in `attribute_cols!()` order.
fn bind_attribute<'q>(q: Query<'q>, d: &AttributeDefinition) -> StoreResult<Query<'q>> {
    let q = q
        .bind(d.id.as_uuid())
        .bind(d.org_id.as_uuid())
        .bind(d.object_type.as_str())
        .bind(&d.name)
        .bind(&d.label)
        .bind(d.data_type.as_str())
        .bind(d.required)
        .bind(d.unique)
        .bind(to_json(&d.allowed_values)?)
        .bind(d.position);
    Ok(bind_stamps(q, &d.stamps))
}

macro_rules! user_type_cols {
    () => {
        concat!("id, org_id, code, description, ", stamp_cols!())
    };
}

fn user_type(row: &DbRow) -> StoreResult<UserType> {
    let c = Cols(row);
    Ok(UserType {
        id: UserTypeId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        code: c.text("code")?,
        description: c.opt_text("description")?,
        stamps: c.stamps()?,
    })
}

/// Binds `$1..$9` in `user_type_cols!()` order.
fn bind_user_type<'q>(q: Query<'q>, t: &UserType) -> Query<'q> {
    let q = q
        .bind(t.id.as_uuid())
        .bind(t.org_id.as_uuid())
        .bind(&t.code)
        .bind(&t.description);
    bind_stamps(q, &t.stamps)
}

#[async_trait]
impl MetadataStore for SqlTx {
    async fn insert_attribute(&mut self, d: &AttributeDefinition) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "INSERT INTO attribute_definitions (",
            attribute_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ));
        bind_attribute(q, d)?
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn update_attribute(&mut self, d: &AttributeDefinition) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "UPDATE attribute_definitions SET object_type = $3, name = $4, label = $5, ",
            "data_type = $6, required = $7, is_unique = $8, allowed_values = $9, position = $10, ",
            "created_at = $11, created_by = $12, updated_at = $13, updated_by = $14, ",
            "version = $15 WHERE id = $1 AND org_id = $2"
        ));
        updated(
            bind_attribute(q, d)?
                .execute(self.conn())
                .await
                .map_err(map_err)?,
        )
    }

    async fn get_attribute(
        &mut self,
        org: OrgId,
        id: AttributeId,
    ) -> StoreResult<Option<AttributeDefinition>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            attribute_cols!(),
            " FROM attribute_definitions WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(attribute).transpose()
    }

    async fn list_attributes(
        &mut self,
        org: OrgId,
        object_type: Option<ObjectType>,
    ) -> StoreResult<Vec<AttributeDefinition>> {
        let rows = match object_type {
            Some(t) => sqlx::query(concat!(
                "SELECT ",
                attribute_cols!(),
                " FROM attribute_definitions WHERE org_id = $1 AND object_type = $2 ",
                "ORDER BY position, name, id"
            ))
            .bind(org.as_uuid())
            .bind(t.as_str()),
            None => sqlx::query(concat!(
                "SELECT ",
                attribute_cols!(),
                " FROM attribute_definitions WHERE org_id = $1 ORDER BY position, name, id"
            ))
            .bind(org.as_uuid()),
        }
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter().map(attribute).collect()
    }

    async fn delete_attribute(&mut self, org: OrgId, id: AttributeId) -> StoreResult<bool> {
        delete_row(
            self,
            "DELETE FROM attribute_definitions WHERE org_id = $1 AND id = $2",
            org,
            id.as_uuid(),
        )
        .await
    }

    async fn index_attributes(
        &mut self,
        org: OrgId,
        object_type: ObjectType,
        object_id: Uuid,
        values: &[(String, String)],
    ) -> StoreResult<()> {
        sqlx::query("DELETE FROM attribute_values WHERE org_id = $1 AND object_type = $2 AND object_id = $3")
            .bind(org.as_uuid())
            .bind(object_type.as_str())
            .bind(object_id)
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        for (name, value) in values {
            sqlx::query(
                "INSERT INTO attribute_values (org_id, object_type, object_id, name, value) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(org.as_uuid())
            .bind(object_type.as_str())
            .bind(object_id)
            .bind(name)
            .bind(value)
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        }
        Ok(())
    }

    async fn attribute_value_taken(
        &mut self,
        org: OrgId,
        object_type: ObjectType,
        name: &str,
        value: &str,
        except: Option<Uuid>,
    ) -> StoreResult<bool> {
        let q = match except {
            Some(except) => sqlx::query_scalar(
                "SELECT COUNT(*) FROM attribute_values WHERE org_id = $1 AND object_type = $2 \
                 AND name = $3 AND value = $4 AND object_id <> $5",
            )
            .bind(org.as_uuid())
            .bind(object_type.as_str())
            .bind(name)
            .bind(value)
            .bind(except),
            None => sqlx::query_scalar(
                "SELECT COUNT(*) FROM attribute_values WHERE org_id = $1 AND object_type = $2 \
                 AND name = $3 AND value = $4",
            )
            .bind(org.as_uuid())
            .bind(object_type.as_str())
            .bind(name)
            .bind(value),
        };
        let count: i64 = q.fetch_one(self.conn()).await.map_err(map_err)?;
        Ok(count > 0)
    }

    async fn insert_user_type(&mut self, t: &UserType) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "INSERT INTO user_types (",
            user_type_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ));
        bind_user_type(q, t)
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn update_user_type(&mut self, t: &UserType) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "UPDATE user_types SET code = $3, description = $4, created_at = $5, created_by = $6, ",
            "updated_at = $7, updated_by = $8, version = $9 WHERE id = $1 AND org_id = $2"
        ));
        updated(
            bind_user_type(q, t)
                .execute(self.conn())
                .await
                .map_err(map_err)?,
        )
    }

    async fn get_user_type(&mut self, org: OrgId, id: UserTypeId) -> StoreResult<Option<UserType>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_type_cols!(),
            " FROM user_types WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(user_type).transpose()
    }

    async fn get_user_type_by_code(
        &mut self,
        org: OrgId,
        code: &str,
    ) -> StoreResult<Option<UserType>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_type_cols!(),
            " FROM user_types WHERE org_id = $1 AND code = $2"
        ))
        .bind(org.as_uuid())
        .bind(code)
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(user_type).transpose()
    }

    async fn list_user_types(&mut self, org: OrgId) -> StoreResult<Vec<UserType>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            user_type_cols!(),
            " FROM user_types WHERE org_id = $1 ORDER BY code"
        ))
        .bind(org.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter().map(user_type).collect()
    }

    async fn delete_user_type(&mut self, org: OrgId, id: UserTypeId) -> StoreResult<bool> {
        delete_row(
            self,
            "DELETE FROM user_types WHERE org_id = $1 AND id = $2",
            org,
            id.as_uuid(),
        )
        .await
    }

    async fn count_users_of_type(&mut self, org: OrgId, code: &str) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE org_id = $1 AND user_type = $2")
            .bind(org.as_uuid())
            .bind(code)
            .fetch_one(self.conn())
            .await
            .map_err(map_err)
    }
}

macro_rules! mail_domain_cols {
    () => {
        concat!("id, org_id, code, description, obsolete, ", stamp_cols!())
    };
}

fn mail_domain(row: &DbRow) -> StoreResult<MailDomain> {
    let c = Cols(row);
    Ok(MailDomain {
        id: MailDomainId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        code: c.text("code")?,
        description: c.opt_text("description")?,
        obsolete: c.flag("obsolete")?,
        stamps: c.stamps()?,
    })
}

/// Binds `$1..$10` in `mail_domain_cols!()` order.
fn bind_mail_domain<'q>(q: Query<'q>, d: &MailDomain) -> Query<'q> {
    let q = q
        .bind(d.id.as_uuid())
        .bind(d.org_id.as_uuid())
        .bind(&d.code)
        .bind(&d.description)
        .bind(d.obsolete);
    bind_stamps(q, &d.stamps)
}

#[async_trait]
impl MailDomainStore for SqlTx {
    async fn insert_mail_domain(&mut self, d: &MailDomain) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "INSERT INTO mail_domains (",
            mail_domain_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ));
        bind_mail_domain(q, d)
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn update_mail_domain(&mut self, d: &MailDomain) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "UPDATE mail_domains SET code = $3, description = $4, obsolete = $5, created_at = $6, ",
            "created_by = $7, updated_at = $8, updated_by = $9, version = $10 ",
            "WHERE id = $1 AND org_id = $2"
        ));
        updated(
            bind_mail_domain(q, d)
                .execute(self.conn())
                .await
                .map_err(map_err)?,
        )
    }

    async fn get_mail_domain(
        &mut self,
        org: OrgId,
        id: MailDomainId,
    ) -> StoreResult<Option<MailDomain>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            mail_domain_cols!(),
            " FROM mail_domains WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(mail_domain).transpose()
    }

    async fn get_mail_domain_by_code(
        &mut self,
        org: OrgId,
        code: &str,
    ) -> StoreResult<Option<MailDomain>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            mail_domain_cols!(),
            " FROM mail_domains WHERE org_id = $1 AND code = $2"
        ))
        .bind(org.as_uuid())
        .bind(code)
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(mail_domain).transpose()
    }

    async fn list_mail_domains(&mut self, org: OrgId) -> StoreResult<Vec<MailDomain>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            mail_domain_cols!(),
            " FROM mail_domains WHERE org_id = $1 ORDER BY code"
        ))
        .bind(org.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter().map(mail_domain).collect()
    }

    async fn delete_mail_domain(&mut self, org: OrgId, id: MailDomainId) -> StoreResult<bool> {
        delete_row(
            self,
            "DELETE FROM mail_domains WHERE org_id = $1 AND id = $2",
            org,
            id.as_uuid(),
        )
        .await
    }

    async fn count_mail_domains(&mut self, org: OrgId) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM mail_domains WHERE org_id = $1")
            .bind(org.as_uuid())
            .fetch_one(self.conn())
            .await
            .map_err(map_err)
    }
}
