//! The number (SPEC §2): every field, its enums, and the field rules (R-PROD-1, R-STAT-1,
//! R-EDIT-1, R-CUST-1..3, R-CAP-1, R-ASG-1, R-NUM-3) as pure functions.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::e164::{E164, FineType, NumberType, ParseEnumError};
use crate::ids::{
    AccountId, AuditId, BlockId, CarrierId, NumberId, PortOrderId, ReservationId, TrunkId,
};
use crate::rules::{Rule, RuleViolation, ensure};

string_enum!(/// What the number is sold as.
    Product, "product", { Phone => "phone", ContactCenter => "contact_center", Unallocated => "unallocated" });
string_enum!(/// Who may be assigned a number (seed 002's assignee types).
    AssigneeType, "assignee_type", {
    User => "user", CallQueue => "call_queue", AutoReceptionist => "auto_receptionist",
    CommonArea => "common_area", ZoomRoom => "zoom_room" });
string_enum!(/// How many assignees a number may have (R-ASG-1).
    Capacity, "capacity", { SingleUser => "single_user", SingleContactCenter => "single_contact_center", Multiple => "multiple" });
string_enum!(/// Voice direction.
    VoiceDirection, "voice_direction", { Both => "both", InboundOnly => "inbound_only", OutboundOnly => "outbound_only", None => "none" });
string_enum!(/// Messaging capability setting.
    Messaging, "messaging", { None => "none", Sms => "sms", SmsMms => "sms_mms" });
string_enum!(/// Where the number sits in the pool of the account holding it. `held` means a customer
    /// or unit holds it (assigned or not); `free` and `returned` are positions in a pool.
    Position, "position", { Free => "free", Returned => "returned", Held => "held" });
string_enum!(/// Where a number is as one account sees it (SPEC §3): the holder and the customer it is
    /// with see `free`, `returned`, `assigned` or `unassigned`; a pool that allocated it onwards
    /// sees `in_use`. Lists filter and the inventory counts by this, so it is computed in one
    /// place, [`ViewPosition::of`], and the store's SQL is checked against it.
    ViewPosition, "position", {
    Free => "free", Returned => "returned", InUse => "in_use", Assigned => "assigned",
    Unassigned => "unassigned" });

string_enum!(/// The order of a number list: when the number was added (its id is time-ordered; the
    /// default) or its E.164 form, each either way. Every order is total (ids and E.164 forms are
    /// unique), so keyset pages neither skip nor repeat a number.
    #[derive(Default)]
    NumberSort, "sort", {
    #[default] Added => "added", AddedDesc => "added_desc", PhoneNumber => "phone_number",
    PhoneNumberDesc => "phone_number_desc" });

impl ViewPosition {
    /// The position of `number` as `viewer` sees it.
    pub fn of(number: &Number, viewer: AccountId) -> ViewPosition {
        Self::at(
            number.holder_id,
            number.customer_id,
            number.position,
            !number.assignees.is_empty(),
            viewer,
        )
    }

    /// The position of a listed number as `viewer` sees it.
    pub fn of_listing(number: &NumberListing, viewer: AccountId) -> ViewPosition {
        Self::at(
            number.holder_id,
            number.customer_id,
            number.position,
            !number.assignees.is_empty(),
            viewer,
        )
    }

    fn at(
        holder: AccountId,
        customer: Option<AccountId>,
        position: Position,
        assigned: bool,
        viewer: AccountId,
    ) -> ViewPosition {
        if holder != viewer && customer != Some(viewer) {
            return ViewPosition::InUse;
        }
        match position {
            Position::Free => ViewPosition::Free,
            Position::Returned => ViewPosition::Returned,
            Position::Held if assigned => ViewPosition::Assigned,
            Position::Held => ViewPosition::Unassigned,
        }
    }
}

/// Carrier activation status. Stored and shown in the portal as `normal`; the API says
/// `active` (SPEC §8.1); both words parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumberStatus {
    Pending,
    Normal,
}

impl NumberStatus {
    pub const ALL: [NumberStatus; 2] = [Self::Pending, Self::Normal];
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Normal => "normal",
        }
    }
    /// The API word (SPEC §8.1).
    pub fn api_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Normal => "active",
        }
    }
}

impl FromStr for NumberStatus {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pending" => Ok(Self::Pending),
            "normal" | "active" => Ok(Self::Normal),
            _ => Err(ParseEnumError::new("status", s, "active (normal), pending")),
        }
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for NumberStatus {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(["active", "pending"]))
            .description(Some(
                "Carrier activation: `active` (the portal's Normal) or `pending`.",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for NumberStatus {}

impl Serialize for NumberStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.api_str())
    }
}

impl<'de> Deserialize<'de> for NumberStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One assignee of a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Assignee {
    #[serde(rename = "assignee_type")]
    pub kind: AssigneeType,
    #[serde(rename = "assignee_id")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// What a number carries. In JSON (SPEC §8.1, seed 002) it is the list of the names that are
/// on, always in the order `voice`, `sms`, `mms`, `fax`: `["voice", "sms"]`; `[]` is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    pub voice: bool,
    pub sms: bool,
    pub mms: bool,
    pub fax: bool,
}

impl Capabilities {
    /// The names, in the order a list of them is written.
    pub const NAMES: [&'static str; 4] = ["voice", "sms", "mms", "fax"];

    fn flags(&self) -> [bool; 4] {
        [self.voice, self.sms, self.mms, self.fax]
    }

    /// The names of the capabilities that are on, in [`Capabilities::NAMES`] order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .zip(self.flags())
            .filter_map(|(name, on)| on.then_some(name))
    }

    /// The capabilities named in `names`; an unknown or repeated name is refused with the
    /// reason.
    pub fn from_names<'a>(
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Capabilities, String> {
        let mut c = Capabilities::default();
        for name in names {
            let flag = match name {
                "voice" => &mut c.voice,
                "sms" => &mut c.sms,
                "mms" => &mut c.mms,
                "fax" => &mut c.fax,
                other => {
                    return Err(format!(
                        "unknown capability `{}`: the names are voice, sms, mms and fax",
                        other.chars().take(40).collect::<String>()
                    ));
                }
            };
            if *flag {
                return Err(format!("`{name}` is listed twice"));
            }
            *flag = true;
        }
        Ok(c)
    }
}

impl Serialize for Capabilities {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.names())
    }
}

impl<'de> Deserialize<'de> for Capabilities {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Names;
        impl<'de> serde::de::Visitor<'de> for Names {
            type Value = Capabilities;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(r#"a list of capability names, such as ["voice", "sms"]"#)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Capabilities, A::Error> {
                let mut names: Vec<String> = Vec::with_capacity(4);
                while let Some(name) = seq.next_element::<String>()? {
                    // More names than there are capabilities has a repeat in it: stop reading.
                    if names.len() == Capabilities::NAMES.len() {
                        return Err(serde::de::Error::custom(
                            "there are four capabilities: voice, sms, mms and fax, each listed once at most",
                        ));
                    }
                    names.push(name);
                }
                Capabilities::from_names(names.iter().map(String::as_str))
                    .map_err(serde::de::Error::custom)
            }
        }
        d.deserialize_seq(Names)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Capabilities {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        ArrayBuilder::new()
            .items(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(Capabilities::NAMES)),
            )
            .unique_items(true)
            .max_items(Some(Capabilities::NAMES.len()))
            .description(Some(
                "The capabilities that are on, by name, such as `[\"voice\", \"sms\"]`; `[]` is \
                 none. Written in the order voice, sms, mms, fax.",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Capabilities {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Customization {
    pub capacity: Capacity,
    pub voice_direction: VoiceDirection,
    pub messaging: Messaging,
    pub outbound_dialer: bool,
    pub outbound_cli_shared: bool,
}

impl Default for Customization {
    fn default() -> Self {
        Self {
            capacity: Capacity::SingleUser,
            voice_direction: VoiceDirection::Both,
            messaging: Messaging::None,
            outbound_dialer: false,
            outbound_cli_shared: false,
        }
    }
}

/// A number as stored: one row, one truth. "My numbers" is a query over `holder_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Number {
    pub id: NumberId,
    pub phone_number: E164,
    pub number_type: NumberType,
    pub fine_type: FineType,
    pub region_state: Option<String>,
    pub city: Option<String>,
    pub product: Product,
    pub status: NumberStatus,
    pub position: Position,
    /// The account the number is with now.
    pub holder_id: AccountId,
    /// The customer the number is with (also set while it sits in one of the customer's units).
    pub customer_id: Option<AccountId>,
    /// The pool that allocated it to the current holder: where a release sends it back to.
    pub allocated_from: Option<AccountId>,
    /// The root (provider or customer) that brought it in.
    pub owner_id: AccountId,
    pub uploaded_by: AccountId,
    pub assignees: Vec<Assignee>,
    pub sip_trunk_id: Option<TrunkId>,
    pub billing_reference: Option<String>,
    pub service_info: Option<String>,
    pub capabilities: Capabilities,
    pub voice_carrier_id: Option<CarrierId>,
    pub sms_carrier_id: Option<CarrierId>,
    pub customization: Customization,
    pub call_purpose: Option<String>,
    pub display_name: Option<String>,
    pub program_duration: Option<String>,
    pub attributes: BTreeMap<String, String>,
    pub source: String,
    pub block_id: Option<BlockId>,
    pub port_order_id: Option<PortOrderId>,
    /// The reservation holding this free number for an account (SPEC §5), if any.
    pub reservation: Option<Held>,
    /// The audit event that recorded this number's add: one event per added batch, so a
    /// 10,000-number import writes one audit row, not 10,000.
    pub add_event_id: Option<AuditId>,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "crate::timestamp::serialize")]
    pub created_at: i64,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "crate::timestamp::serialize")]
    pub updated_at: i64,
    /// Bumped by every change; the compare-and-set guard and the ETag.
    pub version: i64,
}

/// A number as the list export shows it: the columns of [`Number`] that the list and
/// consolidated exports write, read without the other two dozen (issue 13: at a million rows,
/// reading and decoding every column was most of an export's time).
#[derive(Debug, Clone)]
pub struct NumberListing {
    pub id: NumberId,
    pub phone_number: E164,
    pub number_type: NumberType,
    pub product: Product,
    pub status: NumberStatus,
    pub position: Position,
    pub holder_id: AccountId,
    pub customer_id: Option<AccountId>,
    pub owner_id: AccountId,
    pub assignees: Vec<Assignee>,
    pub sip_trunk_id: Option<TrunkId>,
    pub billing_reference: Option<String>,
    pub source: String,
    pub created_at: i64,
}

/// A free number's reservation as the number carries it: which, for whom, until when. Kept on
/// the number so that a search hides it and a move checks it without reading the reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Held {
    pub reservation_id: ReservationId,
    /// The account the number is held for.
    pub for_account: AccountId,
    /// Unix milliseconds; from then on the number is free again.
    pub until: i64,
}

impl Number {
    /// Whether the number is on its way in through a porting order that is still open: it is
    /// `pending` with the order until the order completes (R-PORT-1).
    pub fn in_open_port(&self) -> bool {
        self.port_order_id.is_some() && self.status == NumberStatus::Pending
    }

    /// This number as it stands at `now`: a reservation that has run out holds nothing, even
    /// before the expiry job has cleared it from the row.
    pub fn lapsed_at(mut self, now: i64) -> Number {
        if self.reservation.is_some_and(|h| h.until <= now) {
            self.reservation = None;
        }
        self
    }
}

/// What an add asks for, after parsing (everything but where it goes).
#[derive(Debug, Clone, Default)]
pub struct NewNumber {
    pub product: Option<Product>,
    pub status: Option<NumberStatus>,
    /// R-NUM-3: given explicitly only at add time; computed from the number when absent.
    pub number_type: Option<NumberType>,
    pub region_state: Option<String>,
    pub city: Option<String>,
    pub billing_reference: Option<String>,
    pub service_info: Option<String>,
    pub capabilities: Option<Capabilities>,
    pub customization: Option<Customization>,
    pub call_purpose: Option<String>,
    pub display_name: Option<String>,
    /// Seed 004's program duration (free text, e.g. "2026-01-01 to 2026-06-30").
    pub program_duration: Option<String>,
    pub attributes: BTreeMap<String, String>,
    /// One of the owner's SIP trunks.
    pub sip_trunk_id: Option<TrunkId>,
    /// A voice carrier of the owner; the default when voice is on and none is named.
    pub voice_carrier_id: Option<CarrierId>,
    /// An SMS carrier profile of the owner; the default when SMS is on and none is named.
    pub sms_carrier_id: Option<CarrierId>,
}

/// Editable fields; `None` leaves a field as it is. The phone number itself is not here: it is
/// never edited (R-EDIT-1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NumberPatch {
    pub product: Option<Product>,
    pub status: Option<NumberStatus>,
    pub number_type: Option<NumberType>,
    pub sip_trunk_id: Option<Option<TrunkId>>,
    pub billing_reference: Option<Option<String>>,
    pub service_info: Option<Option<String>>,
    pub capabilities: Option<Capabilities>,
    pub voice_carrier_id: Option<Option<CarrierId>>,
    pub sms_carrier_id: Option<Option<CarrierId>>,
    pub customization: Option<Customization>,
    pub call_purpose: Option<Option<String>>,
    pub display_name: Option<Option<String>>,
    pub program_duration: Option<Option<String>>,
    pub attributes: Option<BTreeMap<String, String>>,
}

/// R-NUM-3: the stored type is the explicit one when given at add time, else the derived one.
pub fn initial_type(number: &E164, given: Option<NumberType>) -> NumberType {
    given.unwrap_or_else(|| number.number_type())
}

/// R-PROD-1: `unallocated` may become `phone` or `contact_center` once; after that never.
pub fn check_product_change(from: Product, to: Product) -> Result<(), RuleViolation> {
    ensure(
        from == to || from == Product::Unallocated,
        Rule::Prod1,
        || {
            format!(
                "the product of a number cannot change from {} to {}; remove and re-add the number",
                from.as_str(),
                to.as_str()
            )
        },
    )
}

/// R-STAT-1: `pending` → `normal` only.
pub fn check_status_change(from: NumberStatus, to: NumberStatus) -> Result<(), RuleViolation> {
    ensure(
        from == to || (from == NumberStatus::Pending && to == NumberStatus::Normal),
        Rule::Stat1,
        || "an active number cannot go back to pending".to_string(),
    )
}

/// R-CUST-1..3 on a customization for a product.
pub fn check_customization(product: Product, c: &Customization) -> Result<(), RuleViolation> {
    ensure(
        !(product == Product::ContactCenter && c.capacity == Capacity::SingleContactCenter),
        Rule::Cust1,
        || "capacity single_contact_center is not allowed on a contact_center number".into(),
    )?;
    let outbound = matches!(
        c.voice_direction,
        VoiceDirection::Both | VoiceDirection::OutboundOnly
    );
    ensure(!c.outbound_dialer || outbound, Rule::Cust2, || {
        "outbound_dialer needs voice_direction both or outbound_only".into()
    })?;
    ensure(
        !c.outbound_cli_shared || (c.capacity == Capacity::Multiple && outbound),
        Rule::Cust3,
        || {
            "outbound_cli_shared needs capacity multiple and voice_direction both or outbound_only"
                .into()
        },
    )
}

/// R-CAP-1: a number's carriers may change only while it has no assignee.
pub fn check_carrier_change(number: &Number, patch: &NumberPatch) -> Result<(), RuleViolation> {
    let changes = patch
        .voice_carrier_id
        .is_some_and(|c| c != number.voice_carrier_id)
        || patch
            .sms_carrier_id
            .is_some_and(|c| c != number.sms_carrier_id);
    ensure(!changes || number.assignees.is_empty(), Rule::Cap1, || {
        "carriers can change only while the number has no assignee; unassign it first".into()
    })
}

/// R-ASG-1: single capacities allow one assignee; `multiple` allows many.
pub fn check_assignee_capacity(capacity: Capacity, current: usize) -> Result<(), RuleViolation> {
    let max = match capacity {
        Capacity::SingleUser | Capacity::SingleContactCenter => Some(1),
        Capacity::Multiple => None,
    };
    ensure(max.is_none_or(|m| current < m), Rule::Asg1, || {
        format!(
            "capacity {} allows one assignee and the number already has one",
            capacity.as_str()
        )
    })
}

/// Free text fields: bounded, and visible apart from line breaks and tabs (`text`).
pub fn check_text(field: &'static str, value: &str, max_chars: usize) -> Result<(), String> {
    if value.chars().count() > max_chars {
        return Err(format!("{field} is longer than {max_chars} characters"));
    }
    crate::text::check_visible(field, value, crate::text::TextKind::FreeText)
}

/// R-EDIT-1 with R-PROD-1, R-STAT-1, R-CUST-*, R-CAP-1: apply an edit, or say which rule it
/// breaks. A `normal` number may change billing reference, SIP trunk, service info,
/// customization, attributes, call purpose and display name; a `pending` one additionally its
/// status (to `normal`) and its type.
pub fn apply_patch(number: &Number, patch: &NumberPatch) -> Result<Number, RuleViolation> {
    let mut next = number.clone();
    if let Some(status) = patch.status {
        check_status_change(number.status, status)?;
        ensure(
            status == number.status || !number.in_open_port(),
            Rule::Port1,
            || {
                "the number is being ported in: it becomes active when its porting order completes"
                    .into()
            },
        )?;
        next.status = status;
    }
    if let Some(t) = patch.number_type
        && t != number.number_type
    {
        ensure(number.status == NumberStatus::Pending, Rule::Edit1, || {
            "the type of an active number cannot change; only a pending number's can".into()
        })?;
        next.number_type = t;
    }
    if let Some(p) = patch.product {
        check_product_change(number.product, p)?;
        next.product = p;
    }
    check_carrier_change(number, patch)?;
    if let Some(v) = patch.voice_carrier_id {
        next.voice_carrier_id = v;
    }
    if let Some(v) = patch.sms_carrier_id {
        next.sms_carrier_id = v;
    }
    if let Some(v) = patch.sip_trunk_id {
        ensure(
            v.is_some() || number.customer_id.is_none(),
            Rule::Edit1,
            || {
                "a number that is with a customer keeps a SIP trunk; give another trunk instead"
                    .into()
            },
        )?;
        next.sip_trunk_id = v;
    }
    if let Some(v) = &patch.billing_reference {
        next.billing_reference = v.clone();
    }
    if let Some(v) = &patch.service_info {
        next.service_info = v.clone();
    }
    if let Some(v) = patch.capabilities {
        next.capabilities = v;
    }
    if let Some(v) = patch.customization {
        next.customization = v;
    }
    if let Some(v) = &patch.call_purpose {
        next.call_purpose = v.clone();
    }
    if let Some(v) = &patch.display_name {
        next.display_name = v.clone();
    }
    if let Some(v) = &patch.program_duration {
        next.program_duration = v.clone();
    }
    if let Some(v) = &patch.attributes {
        next.attributes = v.clone();
    }
    check_customization(next.product, &next.customization)?;
    if next.assignees.len() > 1 {
        // Lowering capacity below the current assignees would break R-ASG-1 after the fact.
        check_assignee_capacity(next.customization.capacity, 1)?;
    }
    Ok(next)
}
