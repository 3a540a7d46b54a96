//! What every data case starts from, made through the binary on a migrated database: a
//! provider (Acme) with a customer (Globex) and its unit (Sales), a root customer (Initech),
//! an unrelated provider (Other) and Acme's SIP trunk, plus the steps several cases take on it.

use serde_json::Value;

use crate::common::process::{ok_json, run, s};

pub struct World<'a> {
    pub db: &'a str,
    /// `account create --json` of the provider.
    pub provider: Value,
    /// The provider, and its account number (what a customer connects by).
    pub pid: String,
    pub pnum: String,
    /// The provider's customer and the customer's unit.
    pub cid: String,
    pub uid: String,
    /// A root customer, connected to the provider only by `connect`.
    pub rid: String,
    /// The unrelated provider.
    pub oid: String,
    /// The provider's SIP trunk.
    pub tid: String,
}

impl<'a> World<'a> {
    pub fn new(db: &'a str) -> World<'a> {
        let r = run(db, "migrate", None);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let create = |args: &str| ok_json(db, &format!("account create --json {args}"));
        let p = create("--name Acme --kind provider");
        let (pid, pnum) = (s(&p, "id"), s(&p, "account_number"));
        let cid = s(
            &create(&format!("--name Globex --kind customer --parent {pid}")),
            "id",
        );
        let uid = s(
            &create(&format!("--name Sales --kind unit --parent {cid}")),
            "id",
        );
        let rid = s(&create("--name Initech --kind customer"), "id");
        let oid = s(&create("--name Other --kind provider"), "id");
        let trunk = ok_json(
            db,
            &format!("trunk create --account {pid} --name t1 --region us --json"),
        );
        let tid = s(&trunk, "id");
        World {
            db,
            provider: p,
            pid,
            pnum,
            cid,
            uid,
            rid,
            oid,
            tid,
        }
    }

    /// The root customer connects to the provider through Provider Exchange.
    pub fn connect(&self) -> Value {
        ok_json(
            self.db,
            &format!(
                "exchange connect --account {} --provider-number {} --json",
                self.rid, self.pnum
            ),
        )
    }

    /// Adds `numbers` to the provider's pool.
    pub fn add(&self, numbers: &[&str]) {
        let line = format!("numbers add --account {} {}", self.pid, numbers.join(" "));
        let r = run(self.db, &line, None);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }

    /// The provider allocates `number` to the customer `to` with its trunk: the run, to check.
    pub fn allocate(&self, number: &str, to: &str) -> crate::common::process::Run {
        run(
            self.db,
            &format!(
                "numbers allocate --account {} {number} --to {to} --sip-trunk {}",
                self.pid, self.tid
            ),
            None,
        )
    }

    /// `allocate` as JSON, which must succeed.
    pub fn allocated(&self, number: &str, to: &str) -> Value {
        ok_json(
            self.db,
            &format!(
                "numbers allocate --account {} {number} --to {to} --sip-trunk {} --json",
                self.pid, self.tid
            ),
        )
    }

    /// `who` assigns `number` to the assignee `kind`/`id`.
    pub fn assign(&self, who: &str, number: &str, kind: &str, id: &str) {
        let r = run(
            self.db,
            &format!("numbers assign --account {who} {number} --type {kind} --id {id}"),
            None,
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
}
