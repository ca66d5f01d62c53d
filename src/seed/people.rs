//! Houses and the people living in them: each residential micro-grid gets a compound of
//! buildings, units and rooms, filled household by household (about 2.5 persons each) with
//! persons, their care and risk tags, and residences; police, civil affairs and property
//! report what they know about them.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rand::Rng;
use serde_json::json;
use std::collections::HashMap;
use std::ops::{Range, RangeInclusive};

use super::affiliations::{self, Affiliations};
use super::grid::{Leaf, Territory, CIVIL_AFFAIRS, DISTRICT_CODE, DISTRICT_NAME, POLICE, PROPERTY};
use super::names;
use super::orgs::Orgs;
use super::random::{age_on, anchor, anchor_day, one_of, phase_rng, pick, SeedRng};
use super::sink::{Buffer, Writer};
use super::sources::Sources;
use crate::domain::id_number::{self, Gender as IdGender};
use crate::entity::vocabulary::{
    ElementType, Gender, HouseKind, HouseUsage, PersonTag, ResidenceRole,
};
use crate::entity::{house, person, person_tag, residence};

/// Mean household size of [`HOUSEHOLD_SIZES`].
const MEAN_HOUSEHOLD: f64 = 2.5;
/// Household sizes and their weights (mean 2.5 persons).
const HOUSEHOLD_SIZES: &[(u32, u32)] = &[(1, 25), (2, 30), (3, 25), (4, 12), (5, 6), (6, 2)];
/// Age bands of household heads (years, from-to) with weights.
const HEAD_AGES: &[((i32, i32), u32)] = &[
    ((22, 30), 12),
    ((30, 40), 24),
    ((40, 50), 22),
    ((50, 60), 18),
    ((60, 70), 13),
    ((70, 80), 8),
    ((80, 92), 3),
];
/// Age bands of floating household heads.
const FLOATING_HEAD_AGES: &[((i32, i32), u32)] = &[
    ((20, 30), 35),
    ((30, 40), 35),
    ((40, 55), 25),
    ((55, 65), 5),
];
/// Age bands of persons living alone.
const SINGLE_AGES: &[((i32, i32), u32)] = &[((20, 35), 45), ((35, 65), 15), ((65, 92), 40)];
/// Floors of a building with weights (most of Karamay is 5-7 storeys).
const FLOORS: &[(u32, u32)] = &[(5, 20), (6, 45), (7, 15), (11, 10), (18, 10)];
/// Where local residents' ID numbers were issued: mostly the district itself.
const LOCAL_REGIONS: &[(&str, u32)] = &[
    (DISTRICT_CODE, 80),
    ("650204", 4),
    ("650205", 2),
    ("650102", 3),
    ("410102", 4),
    ("510104", 4),
    ("620102", 3),
];
/// Share of households that are floating population renting their room.
const FLOATING_SHARE: f64 = 0.18;
/// Share of local households that rent.
const LOCAL_RENTING_SHARE: f64 = 0.1;
/// Share of rooms left empty.
const VACANCY: f64 = 0.05;
/// Share of households on the low-income allowance 低保.
const LOW_INCOME_SHARE: f64 = 0.022;
/// Share of adults the police tag as key persons.
const KEY_PERSON_SHARE: f64 = 0.003;

/// Every person's birth date, indexed by id - 1 (4 bytes a person), for later phases.
pub struct People {
    births: Vec<NaiveDate>,
    memberships: i64,
}

impl People {
    /// Age of person `id` at the anchor.
    pub fn age(&self, id: i64) -> i32 {
        age_on(self.births[(id - 1) as usize], anchor_day())
    }

    /// Number of persons.
    pub fn len(&self) -> usize {
        self.births.len()
    }

    /// Number of memberships written with the persons.
    pub fn memberships(&self) -> i64 {
        self.memberships
    }

    /// A person in `ids` whose age lies in `ages`, if one turns up in a few random draws.
    pub fn sample(
        &self,
        rng: &mut SeedRng,
        ids: &Range<i64>,
        ages: RangeInclusive<i32>,
    ) -> Option<i64> {
        if ids.is_empty() {
            return None;
        }
        (0..64)
            .map(|_| rng.random_range(ids.clone()))
            .find(|&id| ages.contains(&self.age(id)))
    }
}

/// A member of a household being generated.
struct Member {
    male: bool,
    age: i32,
    surname: &'static str,
    relation: Relation,
}

/// How a member relates to the household head.
#[derive(Clone, Copy, PartialEq)]
enum Relation {
    Head,
    Spouse,
    Child,
    Parent,
}

/// A household's shared facts.
struct Household<'a> {
    floating: bool,
    rented: bool,
    ethnicity: &'static str,
    origin: (&'static str, &'static str),
    low_income: bool,
    address: &'a str,
    since: NaiveDate,
}

/// The room being filled and where it is.
struct Room<'a> {
    id: i64,
    address: &'a str,
    leaf: &'a Leaf,
    leaf_index: u32,
    landlord: Option<i64>,
    company: Option<&'a str>,
    territory: &'a Territory,
    orgs: &'a Orgs,
}

/// Generates the houses, persons, tags and residences of every residential micro-grid.
struct Builder<'w> {
    writer: &'w mut Writer,
    rng: SeedRng,
    houses: Buffer<house::Entity>,
    persons: Buffer<person::Entity>,
    tags: Buffer<person_tag::Entity>,
    residences: Buffer<residence::Entity>,
    next_house: i64,
    next_residence: i64,
    sequences: HashMap<u64, u16>,
    births: Vec<NaiveDate>,
    affiliations: Affiliations,
}

/// Writes the houses and people of `territory`, recording the id ranges on its leaves and areas.
pub async fn write_people(
    writer: &mut Writer,
    territory: &mut Territory,
    orgs: &Orgs,
    seed: u64,
    sources: &mut Sources,
) -> anyhow::Result<People> {
    let persons: u64 = territory.leaves.iter().map(|l| l.target).sum();
    let mut builder = Builder {
        writer,
        rng: phase_rng(seed, 3),
        houses: Buffer::default(),
        persons: Buffer::default(),
        tags: Buffer::default(),
        residences: Buffer::default(),
        next_house: 1,
        next_residence: 1,
        sequences: HashMap::new(),
        births: Vec::with_capacity(persons as usize),
        affiliations: Affiliations::new(seed),
    };
    for index in 0..territory.leaves.len() {
        let first_person = builder.births.len() as i64 + 1;
        let first_house = builder.next_house;
        let leaf = &territory.leaves[index];
        if leaf.is_residential() && leaf.target > 0 {
            builder.compound(territory, orgs, index, sources).await?;
        }
        let leaf = &mut territory.leaves[index];
        leaf.persons = first_person..builder.births.len() as i64 + 1;
        leaf.houses = first_house..builder.next_house;
    }
    builder.flush(sources).await?;
    record_area_ranges(territory);
    Ok(People {
        memberships: builder.affiliations.memberships(),
        births: builder.births,
    })
}

/// Sets the person ranges of grids, communities and streets from those of their leaves.
fn record_area_ranges(t: &mut Territory) {
    let leaves = &t.leaves;
    let span = |range: &std::ops::Range<usize>| {
        leaves[range.start].persons.start..leaves[range.end - 1].persons.end
    };
    for area in t
        .grids
        .iter_mut()
        .chain(&mut t.communities)
        .chain(&mut t.streets)
    {
        area.persons = span(&area.leaves);
    }
}

/// Weekday-neutral instant `days` days before the anchor at a random time of day.
fn instant_before(rng: &mut SeedRng, days: i64) -> DateTime<Utc> {
    anchor() - Duration::days(rng.random_range(1..days.max(2)))
        + Duration::seconds(rng.random_range(0..86_400))
}

impl Builder<'_> {
    /// Sends every buffer, parents first.
    async fn flush(&mut self, sources: &mut Sources) -> anyhow::Result<()> {
        self.writer.write(&mut self.houses)?;
        self.writer.write(&mut self.persons)?;
        self.writer.write(&mut self.tags)?;
        self.writer.write(&mut self.residences)?;
        self.affiliations.write(self.writer)?;
        sources.write(self.writer)?;
        self.writer.send().await
    }

    async fn flush_if_full(&mut self, sources: &mut Sources) -> anyhow::Result<()> {
        let full = self.houses.is_full()
            || self.persons.is_full()
            || self.tags.is_full()
            || self.residences.is_full()
            || self.affiliations.is_full()
            || sources.is_full();
        if full {
            self.flush(sources).await?;
        }
        Ok(())
    }

    /// Adds a house and returns its id.
    fn house(
        &mut self,
        parent: Option<i64>,
        leaf: &Leaf,
        kind: HouseKind,
        name: String,
        address: String,
    ) -> i64 {
        let id = self.next_house;
        self.next_house += 1;
        self.houses.push(house::Model {
            id,
            parent_id: parent,
            grid_id: leaf.id,
            kind,
            name,
            address,
            usage: None,
            area_sqm: None,
        });
        id
    }

    /// The compound of a leaf: buildings until every resident of the leaf has a room.
    async fn compound(
        &mut self,
        territory: &Territory,
        orgs: &Orgs,
        leaf_index: usize,
        sources: &mut Sources,
    ) -> anyhow::Result<()> {
        let leaf = &territory.leaves[leaf_index];
        let company = leaf
            .property_company
            .map(|c| orgs.property_companies[c].1.as_str());
        let name = names::compound(leaf_index);
        let address = format!("{}{name}", leaf.address());
        let compound = self.house(
            None,
            leaf,
            HouseKind::Compound,
            name.clone(),
            address.clone(),
        );
        if let Some(company) = company {
            let payload = json!({"小区名称": name, "物业公司": company, "地址": address});
            let at = instant_before(&mut self.rng, 365);
            sources.push(PROPERTY, (ElementType::House, compound), at, payload);
        }
        let mut remaining = leaf.target;
        let mut owners: Vec<i64> = Vec::new();
        let mut number = 1;
        while remaining > 0 {
            let building = format!("{number}号楼");
            let building_address = format!("{address}{building}");
            let building_id = self.house(
                Some(compound),
                leaf,
                HouseKind::Building,
                building,
                building_address.clone(),
            );
            let floors = pick(&mut self.rng, FLOORS);
            let units = if floors > 7 {
                self.rng.random_range(1..=2)
            } else {
                self.rng.random_range(2..=4)
            };
            let households_left =
                (remaining as f64 / MEAN_HOUSEHOLD / (1.0 - VACANCY)).ceil() as u32;
            let units = units.min(households_left.div_ceil(floors * 2)).max(1);
            let floors = floors.min(households_left.div_ceil(units * 2)).max(1);
            for unit in 1..=units {
                let unit_address = format!("{building_address}{unit}单元");
                let unit_id = self.house(
                    Some(building_id),
                    leaf,
                    HouseKind::Unit,
                    format!("{unit}单元"),
                    unit_address.clone(),
                );
                for floor in 1..=floors {
                    for door in 1..=2 {
                        let room = format!("{floor}{door:02}室");
                        let room_address = format!("{unit_address}{room}");
                        let room_id = self.house(
                            Some(unit_id),
                            leaf,
                            HouseKind::Room,
                            room.clone(),
                            room_address.clone(),
                        );
                        let landlord = (!owners.is_empty()).then(|| one_of(&mut self.rng, &owners));
                        let here = Room {
                            id: room_id,
                            address: &room_address,
                            leaf,
                            leaf_index: leaf_index as u32,
                            landlord,
                            company,
                            territory,
                            orgs,
                        };
                        let (usage, head) = self.fill(&here, &mut remaining, &mut owners, sources);
                        if let Some(company) = company {
                            self.report_room(&here, usage, head, company, sources);
                        }
                        self.flush_if_full(sources).await?;
                    }
                }
            }
            number += 1;
        }
        Ok(())
    }

    /// Decides how a room is used, houses a household in it if it is lived in (returning the
    /// head's id), and sets the room's usage and area.
    fn fill(
        &mut self,
        room: &Room,
        remaining: &mut u64,
        owners: &mut Vec<i64>,
        sources: &mut Sources,
    ) -> (HouseUsage, Option<i64>) {
        let vacant = *remaining == 0 || self.rng.random_bool(VACANCY);
        let floating = !vacant && self.rng.random_bool(FLOATING_SHARE);
        let rented = floating || (!vacant && self.rng.random_bool(LOCAL_RENTING_SHARE));
        let usage = if vacant {
            HouseUsage::Vacant
        } else if rented {
            HouseUsage::Rented
        } else {
            HouseUsage::OwnerOccupied
        };
        if let Some(row) = self.houses.last_mut() {
            row.usage = Some(usage);
            row.area_sqm = Some(f64::from(self.rng.random_range(450..1400u32)) / 10.0);
        }
        if usage != HouseUsage::OwnerOccupied {
            if let Some(landlord) = room
                .landlord
                .filter(|_| rented || self.rng.random_bool(0.4))
            {
                let since = anchor_day() - Duration::days(self.rng.random_range(1_000..6_000));
                self.residence(landlord, room.id, ResidenceRole::Owner, since);
            }
        }
        if vacant {
            return (usage, None);
        }
        let size = u64::from(pick(&mut self.rng, HOUSEHOLD_SIZES)).min(*remaining);
        *remaining -= size;
        let head = self.household(room, size as u32, floating, rented, sources);
        if !rented {
            owners.push(head);
        }
        (usage, Some(head))
    }

    /// Generates a household of `size` persons in `room` and returns the head's id.
    fn household(
        &mut self,
        room: &Room,
        size: u32,
        floating: bool,
        rented: bool,
        sources: &mut Sources,
    ) -> i64 {
        let members = self.members(size, floating);
        let head_age = members[0].age;
        let settled = if rented {
            1_100
        } else {
            (i64::from(head_age - 20) * 365).clamp(30, 25 * 365)
        };
        let household = Household {
            floating,
            rented,
            ethnicity: names::ethnicity(&mut self.rng),
            origin: one_of(&mut self.rng, names::ORIGIN_REGIONS),
            low_income: self.rng.random_bool(LOW_INCOME_SHARE),
            address: room.address,
            since: anchor_day() - Duration::days(self.rng.random_range(30..settled.max(31))),
        };
        let mut head = 0;
        for member in &members {
            let id = self.person(room, &household, member, size == 1, sources);
            if member.relation == Relation::Head {
                head = id;
            }
        }
        head
    }

    /// Head, spouse, children and parents of a household of `size`.
    fn members(&mut self, size: u32, floating: bool) -> Vec<Member> {
        let bands = match (size, floating) {
            (1, _) => SINGLE_AGES,
            (_, true) => FLOATING_HEAD_AGES,
            _ => HEAD_AGES,
        };
        let (from, to) = pick(&mut self.rng, bands);
        let head_age = self.rng.random_range(from..to);
        let male = self.rng.random_bool(0.68);
        let surname = names::surname(&mut self.rng);
        let mut members = vec![Member {
            male,
            age: head_age,
            surname,
            relation: Relation::Head,
        }];
        if size >= 2 {
            let age = (head_age + self.rng.random_range(-4..=3)).max(20);
            let spouse = names::surname(&mut self.rng);
            members.push(Member {
                male: !male,
                age,
                surname: spouse,
                relation: Relation::Spouse,
            });
        }
        for _ in 2..size {
            let child_age = head_age - self.rng.random_range(22..36);
            let male = self.rng.random_bool(0.51);
            let member = if child_age >= 0 {
                Member {
                    male,
                    age: child_age,
                    surname,
                    relation: Relation::Child,
                }
            } else {
                let age = (head_age + self.rng.random_range(24..32)).min(98);
                Member {
                    male,
                    age,
                    surname: names::surname(&mut self.rng),
                    relation: Relation::Parent,
                }
            };
            members.push(member);
        }
        members
    }

    /// Adds a person with tags, residences and department reports; returns the id.
    fn person(
        &mut self,
        room: &Room,
        household: &Household,
        member: &Member,
        alone: bool,
        sources: &mut Sources,
    ) -> i64 {
        let street = &room.territory.streets[room.leaf.street].name;
        let id = self.births.len() as i64 + 1;
        let birth = anchor_day()
            - Duration::days(i64::from(member.age) * 365 + self.rng.random_range(0..365));
        let local_born = member.relation == Relation::Child && !household.floating;
        let region = if household.floating {
            household.origin.0
        } else if local_born {
            DISTRICT_CODE
        } else {
            pick(&mut self.rng, LOCAL_REGIONS)
        };
        let (id_number, birth) = self.id_number(region, birth, member.male);
        let name = names::full_name(
            &mut self.rng,
            member.surname,
            member.male,
            household.ethnicity,
        );
        let phone = self.phone(member.age);
        let household_address = if household.floating {
            names::origin_address(&mut self.rng, household.origin.1)
        } else if self.rng.random_bool(0.9) {
            household.address.to_string()
        } else {
            format!(
                "{DISTRICT_NAME}{}{}号",
                one_of(&mut self.rng, names::ROADS),
                self.rng.random_range(1..300)
            )
        };
        let updated_at = instant_before(&mut self.rng, 720);
        let tags = self.tags_of(member, alone, household.low_income);
        self.births.push(birth);
        for &tag in &tags {
            self.tags.push(person_tag::Model { person_id: id, tag });
        }
        let police = json!({
            "姓名": name,
            "公民身份号码": id_number,
            "性别": if member.male { "男" } else { "女" },
            "民族": household.ethnicity,
            "出生日期": birth.format("%Y%m%d").to_string(),
            "户籍地址": household_address,
            "现住址": household.address,
            "人口类型": if household.floating { "流动人口" } else { "户籍人口" },
            "联系电话": phone,
            "重点人员": tags.contains(&PersonTag::KeyPerson),
            "登记单位": format!("{street}派出所"),
        });
        sources.push(POLICE, (ElementType::Person, id), updated_at, police);
        for &tag in &tags {
            self.report_care(id, &name, &id_number, tag, sources);
        }
        self.residences_of(id, room, household, member, sources);
        let affiliated = affiliations::Member {
            id,
            name: &name,
            id_number: &id_number,
            birth,
            age: age_on(birth, anchor_day()),
            leaf: room.leaf_index as usize,
        };
        self.affiliations.add(
            &mut self.rng,
            &affiliated,
            room.territory,
            room.orgs,
            sources,
        );
        self.persons.push(person::Model {
            id,
            id_number,
            name,
            gender: if member.male {
                Gender::Male
            } else {
                Gender::Female
            },
            birth_date: birth,
            ethnicity: household.ethnicity.to_string(),
            phone,
            household_address: Some(household_address),
            local_household: !household.floating,
            floating: household.floating,
            grid_id: room.leaf.id,
            updated_at,
        });
        id
    }

    /// A unique valid ID number for `region`, `birth` and gender; moves the birth date by a day
    /// in the rare case that all 500 sequence numbers of the day are taken.
    fn id_number(&mut self, region: &str, mut birth: NaiveDate, male: bool) -> (String, NaiveDate) {
        let region_number: u64 = region.parse().expect("region codes are digits");
        loop {
            let day = u64::from(birth.num_days_from_ce().unsigned_abs()) & 0xF_FFFF;
            let key = region_number << 21 | day << 1 | u64::from(male);
            let count = self.sequences.entry(key).or_insert(0);
            if *count < 500 {
                let sequence = ((*count as u64 * 37 + day) % 500) as u16 * 2 + u16::from(male);
                *count += 1;
                let gender = if male {
                    IdGender::Male
                } else {
                    IdGender::Female
                };
                return (id_number::compose(region, birth, sequence, gender), birth);
            }
            birth -= Duration::days(1);
        }
    }

    /// A mobile number, except for young children and some of the very old.
    fn phone(&mut self, age: i32) -> Option<String> {
        let has_phone = match age {
            0..=11 => false,
            80.. => self.rng.random_bool(0.6),
            _ => self.rng.random_bool(0.97),
        };
        has_phone.then(|| names::mobile(&mut self.rng))
    }

    /// Care and risk tags at realistic rates.
    fn tags_of(&mut self, member: &Member, alone: bool, low_income: bool) -> Vec<PersonTag> {
        let mut tags = Vec::new();
        if alone && member.age >= 65 && self.rng.random_bool(0.75) {
            tags.push(PersonTag::ElderlyLivingAlone);
        }
        if low_income {
            tags.push(PersonTag::LowIncome);
        }
        if self
            .rng
            .random_bool(if member.age >= 60 { 0.04 } else { 0.008 })
        {
            tags.push(PersonTag::Disabled);
        }
        if member.age >= 18 && self.rng.random_bool(KEY_PERSON_SHARE) {
            tags.push(PersonTag::KeyPerson);
        }
        tags
    }

    /// Residences of a new person: the head owns or rents the room, the others live there.
    fn residences_of(
        &mut self,
        id: i64,
        room: &Room,
        household: &Household,
        member: &Member,
        sources: &mut Sources,
    ) {
        let birth = self.births[(id - 1) as usize];
        let since = household.since.max(birth);
        if member.relation != Relation::Head {
            self.residence(id, room.id, ResidenceRole::Resident, since);
            return;
        }
        self.residence(id, room.id, ResidenceRole::HouseholdHead, since);
        let role = if household.rented {
            ResidenceRole::Tenant
        } else {
            ResidenceRole::Owner
        };
        self.residence(id, room.id, role, since);
        if let Some(company) = room.company {
            let payload = json!({
                "物业公司": company,
                "房屋地址": room.address,
                "身份": if household.rented { "租户" } else { "业主" },
                "入住日期": since.format("%Y-%m-%d").to_string(),
            });
            let at = instant_before(&mut self.rng, 365);
            sources.push(PROPERTY, (ElementType::Person, id), at, payload);
        }
    }

    fn residence(&mut self, person: i64, house: i64, role: ResidenceRole, since: NaiveDate) {
        self.residences.push(residence::Model {
            id: self.next_residence,
            person_id: person,
            house_id: house,
            role,
            since,
            until: None,
        });
        self.next_residence += 1;
    }

    /// Civil affairs reports the care tags; key persons stay with the police.
    fn report_care(
        &mut self,
        id: i64,
        name: &str,
        id_number: &str,
        tag: PersonTag,
        sources: &mut Sources,
    ) {
        let category = match tag {
            PersonTag::ElderlyLivingAlone => "独居老人关爱",
            PersonTag::LowIncome => "城乡居民最低生活保障",
            PersonTag::Disabled => "困难残疾人生活补贴",
            PersonTag::KeyPerson => return,
        };
        let payload = json!({
            "姓名": name,
            "身份证号": id_number,
            "救助类别": category,
            "审批状态": "已审批",
            "发放金额": if tag == PersonTag::LowIncome { 650 } else { 150 },
        });
        let at = instant_before(&mut self.rng, 540);
        sources.push(CIVIL_AFFAIRS, (ElementType::Person, id), at, payload);
    }

    /// Property reports a room of a managed compound, with its household head if any.
    fn report_room(
        &mut self,
        room: &Room,
        usage: HouseUsage,
        head: Option<i64>,
        company: &str,
        sources: &mut Sources,
    ) {
        let status = match usage {
            HouseUsage::OwnerOccupied => "自住",
            HouseUsage::Rented => "出租",
            HouseUsage::Vacant => "空置",
        };
        let area = self.houses.last_mut().and_then(|row| row.area_sqm);
        let payload = json!({
            "物业公司": company,
            "房屋地址": room.address,
            "建筑面积": area,
            "房屋状态": status,
            "户主编号": head,
        });
        let at = instant_before(&mut self.rng, 365);
        sources.push(PROPERTY, (ElementType::House, room.id), at, payload);
    }
}
