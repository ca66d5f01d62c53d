//! Organizations: the party tree (street working committee → community party committees →
//! grid party branches → party groups), police stations and offices, resident units with their
//! party branches, enterprises, social organisations, property companies, owners' committees and
//! volunteer teams.

use chrono::Duration;
use rand::Rng;
use serde_json::json;

use super::grid::{Territory, CIVIL_AFFAIRS, DISTRICT_CODE, PARTY, POLICE, PROPERTY};
use super::names;
use super::plan::Plan;
use super::random::{anchor, one_of, phase_rng, SeedRng};
use super::sink::{Buffer, Writer};
use super::sources::Sources;
use crate::domain::credit_code;
use crate::entity::organization;
use crate::entity::vocabulary::{ElementType, OrganizationKind};

/// Share of residential compounds run by a property company (the rest are 三无小区).
const MANAGED_SHARE: f64 = 0.6;
/// Share of managed compounds with an owners' committee.
const OWNERS_COMMITTEE_SHARE: f64 = 0.45;
/// Residential micro-grids per property company.
const LEAVES_PER_PROPERTY_COMPANY: usize = 8;

/// Ids of the organizations later phases attach people and things to.
#[derive(Default)]
pub struct Orgs {
    /// Police station of each street.
    pub police_stations: Vec<i64>,
    /// Community party committee of each community.
    pub community_committees: Vec<i64>,
    /// Party branch of each grid.
    pub branches: Vec<i64>,
    /// Party branches of resident units, with the community of the unit.
    pub unit_branches: Vec<(i64, usize)>,
    /// Organizations that employ people: resident units, enterprises, property companies.
    pub employers: Vec<i64>,
    /// Property companies (id, name).
    pub property_companies: Vec<(i64, String)>,
    /// Owners' committees with the index of their micro-grid.
    pub owners_committees: Vec<(i64, usize)>,
    /// The two volunteer teams of each community.
    pub teams: Vec<[i64; 2]>,
}

/// A new organization row without id.
struct NewOrg {
    kind: OrganizationKind,
    name: String,
    parent_id: Option<i64>,
    grid_id: Option<i64>,
    department_id: Option<i64>,
    credit_prefix: Option<&'static str>,
    address: Option<String>,
}

impl NewOrg {
    /// An organization of `kind` named `name` covering grid `grid_id`.
    fn new(kind: OrganizationKind, name: String, grid_id: i64) -> Self {
        NewOrg {
            kind,
            name,
            parent_id: None,
            grid_id: Some(grid_id),
            department_id: None,
            credit_prefix: None,
            address: None,
        }
    }

    fn parent(mut self, parent: i64) -> Self {
        self.parent_id = Some(parent);
        self
    }

    fn department(mut self, department: i64) -> Self {
        self.department_id = Some(department);
        self
    }

    /// Gives the organization a credit code starting with `prefix` (authority and category).
    fn credit(mut self, prefix: &'static str) -> Self {
        self.credit_prefix = Some(prefix);
        self
    }

    fn address(mut self, address: String) -> Self {
        self.address = Some(address);
        self
    }
}

/// Generates and writes every organization.
struct Builder<'w> {
    writer: &'w mut Writer,
    rng: SeedRng,
    buffer: Buffer<organization::Entity>,
    next_id: i64,
    orgs: Orgs,
}

/// Writes the organizations of `territory`, assigning property companies to its micro-grids.
pub async fn write_organizations(
    writer: &mut Writer,
    territory: &mut Territory,
    plan: &Plan,
    seed: u64,
    sources: &mut Sources,
) -> anyhow::Result<Orgs> {
    let mut builder = Builder {
        writer,
        rng: phase_rng(seed, 2),
        buffer: Buffer::default(),
        next_id: 1,
        orgs: Orgs::default(),
    };
    for street in 0..territory.streets.len() {
        builder.street(territory, street, sources).await?;
    }
    builder.units(territory, plan, sources).await?;
    builder.flush(sources).await?;
    Ok(builder.orgs)
}

impl Builder<'_> {
    /// Adds an organization and returns its id; party organisations and social organisations are
    /// also reported by their department.
    async fn add(&mut self, org: NewOrg, sources: &mut Sources) -> anyhow::Result<i64> {
        let id = self.next_id;
        self.next_id += 1;
        let credit_code = org.credit_prefix.map(|prefix| self.credit_code(prefix));
        report(sources, id, &org, credit_code.as_deref(), &mut self.rng);
        self.buffer.push(organization::Model {
            id,
            parent_id: org.parent_id,
            grid_id: org.grid_id,
            department_id: org.department_id,
            kind: org.kind,
            name: org.name,
            credit_code,
            address: org.address,
        });
        if self.buffer.is_full() || sources.is_full() {
            self.flush(sources).await?;
        }
        Ok(id)
    }

    async fn flush(&mut self, sources: &mut Sources) -> anyhow::Result<()> {
        self.writer.write(&mut self.buffer)?;
        sources.write(self.writer)?;
        self.writer.send().await
    }

    /// A new-style credit code (organization code starting with `MA`) registered in the district.
    fn credit_code(&mut self, prefix: &str) -> String {
        const BODY: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
        let body: String = std::iter::once('M')
            .chain(std::iter::once('A'))
            .chain((0..6).map(|_| char::from(one_of(&mut self.rng, BODY))))
            .collect();
        credit_code::compose(&format!("{prefix}{DISTRICT_CODE}"), &body)
            .expect("prefix, region and body use the code character set")
    }

    /// The street's party working committee, police station and civil affairs office, then its
    /// communities.
    async fn street(
        &mut self,
        t: &mut Territory,
        street: usize,
        sources: &mut Sources,
    ) -> anyhow::Result<()> {
        let area = &t.streets[street];
        let (grid, name) = (area.id, area.name.clone());
        let committee = NewOrg::new(
            OrganizationKind::StreetPartyCommittee,
            format!("中共{name}工作委员会"),
            grid,
        )
        .department(PARTY);
        let committee = self.add(committee, sources).await?;
        let station = NewOrg::new(
            OrganizationKind::PoliceStation,
            format!("克拉玛依区公安分局{name}派出所"),
            grid,
        )
        .department(POLICE);
        let station = self.add(station, sources).await?;
        self.orgs.police_stations.push(station);
        let office = NewOrg::new(
            OrganizationKind::GovernmentDepartment,
            format!("{name}民政办"),
            grid,
        )
        .department(CIVIL_AFFAIRS);
        self.add(office, sources).await?;
        let communities: Vec<usize> = (0..t.communities.len())
            .filter(|&c| t.communities[c].parent == street)
            .collect();
        for community in communities {
            self.community(t, community, committee, sources).await?;
        }
        Ok(())
    }

    /// The community party committee, the party branch and group of each grid, volunteer teams,
    /// property companies and owners' committees.
    async fn community(
        &mut self,
        t: &mut Territory,
        community: usize,
        street_committee: i64,
        sources: &mut Sources,
    ) -> anyhow::Result<()> {
        let area = &t.communities[community];
        let (grid, name) = (area.id, area.name.clone());
        let committee = NewOrg::new(
            OrganizationKind::CommunityPartyCommittee,
            format!("中共{name}委员会"),
            grid,
        )
        .parent(street_committee)
        .department(PARTY);
        let committee = self.add(committee, sources).await?;
        self.orgs.community_committees.push(committee);
        let grids: Vec<usize> = (0..t.grids.len())
            .filter(|&g| t.grids[g].parent == community)
            .collect();
        for g in grids {
            let area = &t.grids[g];
            let branch = NewOrg::new(
                OrganizationKind::PartyBranch,
                format!("{name}{}党支部", area.name),
                area.id,
            )
            .parent(committee)
            .department(PARTY);
            let branch = self.add(branch, sources).await?;
            self.orgs.branches.push(branch);
            let first_leaf = t.leaves[area.leaves.start].id;
            let group = NewOrg::new(
                OrganizationKind::PartyGroup,
                format!("{name}{}第一党小组", area.name),
                first_leaf,
            )
            .parent(branch)
            .department(PARTY);
            self.add(group, sources).await?;
        }
        let mut teams = [0; 2];
        for (slot, team) in ["志愿服务队", "党员先锋志愿服务队"].iter().enumerate() {
            let org = NewOrg::new(
                OrganizationKind::VolunteerTeam,
                format!("{name}{team}"),
                grid,
            );
            teams[slot] = self.add(org, sources).await?;
        }
        self.orgs.teams.push(teams);
        self.property(t, community, sources).await
    }

    /// Property companies of a community, the compounds they manage and their owners' committees.
    async fn property(
        &mut self,
        t: &mut Territory,
        community: usize,
        sources: &mut Sources,
    ) -> anyhow::Result<()> {
        let leaves = t.communities[community].leaves.clone();
        let residential = leaves
            .clone()
            .filter(|&l| t.leaves[l].is_residential())
            .count();
        let companies = residential.div_ceil(LEAVES_PER_PROPERTY_COMPANY).max(1);
        let first = self.orgs.property_companies.len();
        for _ in 0..companies {
            let name = format!(
                "克拉玛依{}物业服务有限公司",
                names::trade_name(&mut self.rng)
            );
            let leaf = &t.leaves[leaves.start];
            let org = NewOrg::new(
                OrganizationKind::PropertyCompany,
                name.clone(),
                t.grids[leaf.grid].id,
            )
            .department(PROPERTY)
            .credit("91")
            .address(leaf.address());
            let id = self.add(org, sources).await?;
            self.orgs.property_companies.push((id, name));
            self.orgs.employers.push(id);
        }
        for l in leaves {
            if !t.leaves[l].is_residential() || !self.rng.random_bool(MANAGED_SHARE) {
                continue;
            }
            t.leaves[l].property_company = Some(first + self.rng.random_range(0..companies));
            if self.rng.random_bool(OWNERS_COMMITTEE_SHARE) {
                let name = format!("{}业主委员会", names::compound(l));
                let org = NewOrg::new(OrganizationKind::OwnersCommittee, name, t.leaves[l].id)
                    .address(t.leaves[l].address());
                let id = self.add(org, sources).await?;
                self.orgs.owners_committees.push((id, l));
            }
        }
        Ok(())
    }

    /// Resident units with their party branches, enterprises and social organisations, spread
    /// over the communities.
    async fn units(
        &mut self,
        t: &Territory,
        plan: &Plan,
        sources: &mut Sources,
    ) -> anyhow::Result<()> {
        for i in 0..plan.resident_units as usize {
            let (community, leaf) = self.somewhere(t, i);
            let stem = names::RESIDENT_UNITS[i % names::RESIDENT_UNITS.len()];
            let name = match i / names::RESIDENT_UNITS.len() {
                0 => stem.to_string(),
                n => format!("{stem}第{}分部", n + 1),
            };
            let prefix = if stem.contains("公司") { "91" } else { "12" };
            let grid = t.grids[t.leaves[leaf].grid].id;
            let unit = NewOrg::new(OrganizationKind::ResidentUnit, name.clone(), grid)
                .credit(prefix)
                .address(t.leaves[leaf].address());
            let unit = self.add(unit, sources).await?;
            self.orgs.employers.push(unit);
            let branch = NewOrg::new(
                OrganizationKind::PartyBranch,
                format!("中共{name}支部委员会"),
                grid,
            )
            .parent(unit)
            .department(PARTY);
            let branch = self.add(branch, sources).await?;
            self.orgs.unit_branches.push((branch, community));
        }
        for i in 0..plan.enterprises as usize {
            let (_, leaf) = self.somewhere(t, i);
            let trade = names::trade_name(&mut self.rng);
            let industry = one_of(&mut self.rng, names::INDUSTRIES);
            let org = NewOrg::new(
                OrganizationKind::Enterprise,
                format!("克拉玛依{trade}{industry}有限公司"),
                t.grids[t.leaves[leaf].grid].id,
            )
            .credit("91")
            .address(t.leaves[leaf].address());
            let id = self.add(org, sources).await?;
            self.orgs.employers.push(id);
        }
        for i in 0..plan.social_organizations as usize {
            let (community, leaf) = self.somewhere(t, i);
            let kind = names::SOCIAL_ORGANIZATIONS[i % names::SOCIAL_ORGANIZATIONS.len()];
            let name = format!("{}{kind}", t.communities[community].name);
            let prefix = if i % 2 == 0 { "51" } else { "52" };
            let org = NewOrg::new(
                OrganizationKind::SocialOrganization,
                name,
                t.communities[community].id,
            )
            .credit(prefix)
            .address(t.leaves[leaf].address());
            self.add(org, sources).await?;
        }
        Ok(())
    }

    /// The community of the `i`th unit (round robin) and a random micro-grid in it.
    fn somewhere(&mut self, t: &Territory, i: usize) -> (usize, usize) {
        let community = i % t.communities.len();
        let leaves = t.communities[community].leaves.clone();
        (community, self.rng.random_range(leaves))
    }
}

/// Chinese name of an organization kind as departments write it.
fn kind_label(kind: OrganizationKind) -> &'static str {
    match kind {
        OrganizationKind::StreetPartyCommittee => "街道党工委",
        OrganizationKind::CommunityPartyCommittee => "社区党委",
        OrganizationKind::GeneralPartyBranch => "党总支",
        OrganizationKind::PartyBranch => "党支部",
        OrganizationKind::PartyGroup => "党小组",
        OrganizationKind::SocialOrganization => "社会团体",
        _ => "其他",
    }
}

/// The party department reports party organisations, civil affairs reports social
/// organisations; other organizations have no source record.
fn report(
    sources: &mut Sources,
    id: i64,
    org: &NewOrg,
    credit_code: Option<&str>,
    rng: &mut SeedRng,
) {
    let founded = anchor() - Duration::days(rng.random_range(400..9_000));
    let received_at = anchor() - Duration::days(rng.random_range(1..365));
    let element = (ElementType::Organization, id);
    if org.department_id == Some(PARTY) {
        let payload = json!({
            "组织名称": org.name,
            "组织类别": kind_label(org.kind),
            "上级组织编号": org.parent_id,
            "成立日期": founded.format("%Y-%m-%d").to_string(),
        });
        sources.push(PARTY, element, received_at, payload);
    } else if org.kind == OrganizationKind::SocialOrganization {
        let payload = json!({
            "社会组织名称": org.name,
            "统一社会信用代码": credit_code,
            "社会组织类型": if credit_code.is_some_and(|c| c.starts_with("52")) { "民办非企业单位" } else { kind_label(org.kind) },
            "登记管理机关": "克拉玛依区民政局",
            "住所": org.address,
            "成立登记日期": founded.format("%Y-%m-%d").to_string(),
        });
        sources.push(CIVIL_AFFAIRS, element, received_at, payload);
    }
}
