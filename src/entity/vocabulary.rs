//! Closed sets of values of the one-network domain, as stored (string columns) and as exposed in
//! GraphQL (enums). Each variant's doc comment is its description in the schema.

use sea_orm::entity::prelude::*;

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal,)+ }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
            serde::Serialize, serde::Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum $name {
            $($(#[$vmeta])* #[sea_orm(string_value = $value)] #[serde(rename = $value)] $variant,)+
        }
    };
}

vocabulary! {
    /// Level of a grid in the territorial tree.
    GridLevel {
        /// District 区.
        District = "district",
        /// Street or town 街道 / 镇 (the overall grid 总网格).
        Street = "street",
        /// Community 社区 (residents' area grid 居民区网格).
        Community = "community",
        /// Grid 网格 (small grid 小网格).
        Grid = "grid",
        /// Micro-grid 微网格: a group of buildings or a business building.
        MicroGrid = "micro_grid",
    }
}

vocabulary! {
    /// What a grid mostly covers.
    GridKind {
        /// Administrative area above the grid level.
        Administrative = "administrative",
        /// Residential buildings 楼群.
        Residential = "residential",
        /// Business buildings and shops 商务楼宇.
        Business = "business",
        /// Mixed residential and business.
        Mixed = "mixed",
    }
}

vocabulary! {
    /// Gender as read from the ID number.
    Gender {
        /// Male 男.
        Male = "male",
        /// Female 女.
        Female = "female",
    }
}

vocabulary! {
    /// Level of a house in the compound → building → unit → room tree.
    HouseKind {
        /// Residential compound 小区.
        Compound = "compound",
        /// Building 楼栋.
        Building = "building",
        /// Unit (stairwell) 单元.
        Unit = "unit",
        /// Room 室: the dwelling itself.
        Room = "room",
    }
}

vocabulary! {
    /// How a room is used.
    HouseUsage {
        /// Lived in by its owner 自住.
        OwnerOccupied = "owner_occupied",
        /// Rented out 出租.
        Rented = "rented",
        /// Empty 空置.
        Vacant = "vacant",
    }
}

vocabulary! {
    /// Kind of place.
    PlaceKind {
        /// Residential compound 小区.
        Compound = "compound",
        /// Street or road 街路.
        Street = "street",
        /// Small shop along a street 沿街商铺 (one of the "four small" units 四小单位).
        Shop = "shop",
        /// Small restaurant 小餐饮 (四小单位).
        Restaurant = "restaurant",
        /// Small hotel 小旅馆 (四小单位).
        Hotel = "hotel",
        /// Small entertainment venue 小娱乐场所 (四小单位).
        Entertainment = "entertainment",
        /// Business building 商务楼宇.
        BusinessBuilding = "business_building",
        /// School 学校.
        School = "school",
        /// Public space: square, park 公共空间.
        PublicSpace = "public_space",
    }
}

vocabulary! {
    /// Kind of organization.
    OrganizationKind {
        /// Street party working committee 街道党工委 (root of a party tree).
        StreetPartyCommittee = "street_party_committee",
        /// Community party committee 社区党委 / 大党委.
        CommunityPartyCommittee = "community_party_committee",
        /// General party branch 党总支.
        GeneralPartyBranch = "general_party_branch",
        /// Party branch 党支部, paired with a grid (网格党支部) or a unit.
        PartyBranch = "party_branch",
        /// Party group 党小组.
        PartyGroup = "party_group",
        /// Resident unit 驻区单位 (an office or institution in the area).
        ResidentUnit = "resident_unit",
        /// Private enterprise, one of the "two new" organisations 两新组织.
        Enterprise = "enterprise",
        /// Social organisation 社会组织.
        SocialOrganization = "social_organization",
        /// Property management company 物业公司.
        PropertyCompany = "property_company",
        /// Owners' committee 业委会.
        OwnersCommittee = "owners_committee",
        /// Government department office.
        GovernmentDepartment = "government_department",
        /// Police station 派出所.
        PoliceStation = "police_station",
        /// Volunteer team 志愿服务队.
        VolunteerTeam = "volunteer_team",
    }
}

vocabulary! {
    /// Category of an event.
    EventCategory {
        /// Safety hazard 安全隐患.
        SafetyHazard = "safety_hazard",
        /// Dispute between residents 矛盾纠纷.
        Dispute = "dispute",
        /// Sanitation 环境卫生.
        Sanitation = "sanitation",
        /// City management 城市管理 (illegal parking, street stalls, construction).
        CityManagement = "city_management",
        /// Complaint about property management 物业投诉.
        PropertyComplaint = "property_complaint",
        /// Petition 信访.
        Petition = "petition",
        /// Service request from a resident 便民服务.
        ServiceRequest = "service_request",
        /// Epidemic-control task 疫情防控.
        EpidemicControl = "epidemic_control",
    }
}

vocabulary! {
    /// How urgent an event is; deadlines follow from it.
    EventPriority {
        /// Routine: handled within days.
        Low = "low",
        /// Normal.
        Normal = "normal",
        /// Important information: report in writing within 30 minutes.
        High = "high",
        /// Urgent: report by phone within 15 minutes.
        Urgent = "urgent",
    }
}

vocabulary! {
    /// Where an event stands in the loop 发现 → 上报 → 吹哨 → 报到 → 处置 → 反馈 → 评价.
    EventStatus {
        /// Reported 上报, waiting for the grid to accept it.
        Reported = "reported",
        /// Accepted by the grid and being handled there.
        Accepted = "accepted",
        /// Rejected by the grid (not an event, duplicate, out of area).
        Rejected = "rejected",
        /// Escalated one level up the grid tree.
        Escalated = "escalated",
        /// Dispatched to a department ("whistle" 吹哨).
        Dispatched = "dispatched",
        /// Acknowledged by the department, which reports for duty (报到).
        Acknowledged = "acknowledged",
        /// Resolved 处置, with a result; the reporter has been told.
        Resolved = "resolved",
        /// Closed after verification, with a satisfaction rating 评价.
        Closed = "closed",
    }
}

vocabulary! {
    /// How an event was found.
    EventChannel {
        /// Grid worker patrol 网格巡查.
        Patrol = "patrol",
        /// Reported by a resident.
        Resident = "resident",
        /// Citizen hotline 12345.
        Hotline = "hotline",
        /// Video camera 雪亮工程.
        Camera = "camera",
        /// Passed on by a department.
        Department = "department",
    }
}

vocabulary! {
    /// A step in an event's timeline.
    EventActionKind {
        /// Reported.
        Report = "report",
        /// Accepted by the grid.
        Accept = "accept",
        /// Rejected by the grid.
        Reject = "reject",
        /// Escalated one level up.
        Escalate = "escalate",
        /// Dispatched to a department (吹哨).
        Dispatch = "dispatch",
        /// Acknowledged by the department (报到).
        Acknowledge = "acknowledge",
        /// Resolved.
        Resolve = "resolve",
        /// Closed with a rating.
        Close = "close",
        /// Reopened after closing or resolving.
        Reopen = "reopen",
    }
}

vocabulary! {
    /// Kind of managed object (部件).
    ObjectKind {
        /// Fire hydrant 消防栓.
        FireHydrant = "fire_hydrant",
        /// Video camera 摄像头 (雪亮工程).
        Camera = "camera",
        /// Access gate 门禁.
        AccessGate = "access_gate",
        /// E-bike shed 电动车棚.
        EbikeShed = "ebike_shed",
        /// E-bike charger 充电桩.
        EbikeCharger = "ebike_charger",
        /// Vehicle 车辆.
        Vehicle = "vehicle",
        /// Manhole cover 井盖.
        ManholeCover = "manhole_cover",
        /// Automated external defibrillator AED.
        Aed = "aed",
    }
}

vocabulary! {
    /// Working state of an object.
    ObjectStatus {
        /// Working.
        InService = "in_service",
        /// Reported broken.
        Faulty = "faulty",
        /// Taken out of service.
        Retired = "retired",
    }
}

vocabulary! {
    /// How a person relates to a house.
    ResidenceRole {
        /// Owner 产权人.
        Owner = "owner",
        /// Tenant 租户.
        Tenant = "tenant",
        /// Resident 居住人 (family member living there).
        Resident = "resident",
        /// Head of the household 户主.
        HouseholdHead = "household_head",
    }
}

vocabulary! {
    /// How a person belongs to an organization.
    MembershipRole {
        /// Party member 党员.
        PartyMember = "party_member",
        /// Employee.
        Employee = "employee",
        /// Committee seat (e.g. owners' committee, community committee).
        CommitteeMember = "committee_member",
        /// Member of a volunteer team.
        Volunteer = "volunteer",
    }
}

vocabulary! {
    /// Party-member category by age, health and work (A: able and active … D: unable to take part).
    PartyCategory {
        /// A: able and active.
        A = "A",
        /// B: able, limited by work.
        B = "B",
        /// C: limited by age or health.
        C = "C",
        /// D: unable to take part.
        D = "D",
    }
}

vocabulary! {
    /// A role in the grid staff 网格力量.
    StaffRole {
        /// Grid leader 网格长.
        GridLeader = "grid_leader",
        /// Full-time grid worker 专职网格员.
        FullTimeWorker = "full_time_worker",
        /// Part-time grid worker 兼职网格员.
        PartTimeWorker = "part_time_worker",
        /// Grid police 格警 (community police officer).
        GridPolice = "grid_police",
        /// Building or stairwell leader 楼道长.
        BuildingLeader = "building_leader",
        /// Coordinator 协理员.
        Coordinator = "coordinator",
        /// Volunteer.
        Volunteer = "volunteer",
    }
}

vocabulary! {
    /// How a person is involved in an event.
    InvolvementRole {
        /// Reported the event.
        Reporter = "reporter",
        /// A party to it (e.g. one side of a dispute).
        Party = "party",
        /// Witness.
        Witness = "witness",
        /// Handles it.
        Handler = "handler",
    }
}

vocabulary! {
    /// Category of a volunteer activity 志愿服务.
    VolunteerCategory {
        /// Traffic guidance 交通引导.
        TrafficGuidance = "traffic_guidance",
        /// Student aid 助学.
        StudentAid = "student_aid",
        /// Sanitation 环境整治.
        Sanitation = "sanitation",
        /// Legal aid 法律援助.
        LegalAid = "legal_aid",
        /// Care for the elderly 助老.
        ElderlyCare = "elderly_care",
        /// Anything else.
        Other = "other",
    }
}

vocabulary! {
    /// Care and risk tags of a person.
    PersonTag {
        /// Elderly living alone 独居老人.
        ElderlyLivingAlone = "elderly_living_alone",
        /// Low-income household 低保户.
        LowIncome = "low_income",
        /// Disabled 残疾人.
        Disabled = "disabled",
        /// Key person 重点人员 (police only).
        KeyPerson = "key_person",
    }
}

vocabulary! {
    /// The six elements 六要素, as named in provenance.
    ElementType {
        /// Person 人.
        Person = "person",
        /// House 房.
        House = "house",
        /// Place 地.
        Place = "place",
        /// Event 事.
        Event = "event",
        /// Object 物.
        Object = "object",
        /// Organization 组织.
        Organization = "organization",
    }
}
