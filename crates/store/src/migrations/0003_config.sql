-- Configuration resources of the four dialects and call records.

CREATE TABLE applications (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    type TEXT DEFAULT 'EXTERNAL',
    endpoint TEXT DEFAULT '',
    text_to_speech TEXT,
    speech_to_text TEXT,
    intelligence TEXT,
    intelligence_credentials_enc TEXT,
    capabilities TEXT,
    public_key TEXT DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX applications_workspace ON applications (workspace_id, id);

CREATE TABLE credentials (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    username TEXT NOT NULL,
    password_enc TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX credentials_workspace ON credentials (workspace_id, id);

CREATE TABLE acls (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    allow TEXT,
    deny TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX acls_workspace ON acls (workspace_id, id);

CREATE TABLE domains (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    domain_uri TEXT NOT NULL,
    acl_id BIGINT REFERENCES acls (id),
    egress_policies TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, domain_uri)
);
CREATE INDEX domains_workspace ON domains (workspace_id, id);

CREATE TABLE agents (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    username TEXT NOT NULL,
    domain_id BIGINT REFERENCES domains (id),
    credentials_id BIGINT REFERENCES credentials (id),
    privacy TEXT DEFAULT 'NONE',
    enabled BIGINT DEFAULT 1,
    context TEXT DEFAULT 'context-1',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, username)
);
CREATE INDEX agents_workspace ON agents (workspace_id, id);

CREATE TABLE numbers (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    line_number TEXT NOT NULL,
    name TEXT DEFAULT '',
    city TEXT DEFAULT '',
    country TEXT DEFAULT '',
    country_iso_code TEXT DEFAULT '',
    application_id BIGINT REFERENCES applications (id),
    agent_id BIGINT REFERENCES agents (id),
    numbers TEXT DEFAULT '',
    description TEXT DEFAULT '',
    type TEXT DEFAULT '',
    ref_id TEXT DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, line_number)
);
CREATE INDEX numbers_workspace ON numbers (workspace_id, id);

CREATE TABLE trunks (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT DEFAULT '',
    type TEXT DEFAULT 'INOUT',
    protocol TEXT DEFAULT 'UDP',
    remote_addr TEXT DEFAULT '',
    local_addr TEXT DEFAULT '',
    inbound_uri TEXT DEFAULT '',
    register BIGINT DEFAULT 0,
    enabled BIGINT DEFAULT 1,
    source TEXT DEFAULT '',
    media_codec TEXT DEFAULT '',
    params TEXT DEFAULT '',
    acl_id BIGINT REFERENCES acls (id),
    inbound_credentials_id BIGINT REFERENCES credentials (id),
    outbound_credentials_id BIGINT REFERENCES credentials (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE INDEX trunks_workspace ON trunks (workspace_id, id);

CREATE TABLE secrets (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret_enc TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE INDEX secrets_workspace ON secrets (workspace_id, id);

CREATE TABLE contexts (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    description TEXT DEFAULT '',
    hotline_enabled BIGINT DEFAULT 0,
    domain TEXT DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name),
    UNIQUE (workspace_id, key)
);
CREATE INDEX contexts_workspace ON contexts (workspace_id, id);

CREATE TABLE routes (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT DEFAULT '',
    prefix TEXT DEFAULT '',
    max_length BIGINT NOT NULL,
    context TEXT NOT NULL,
    dnc TEXT DEFAULT '',
    sdnc TEXT DEFAULT '',
    dest_type TEXT NOT NULL,
    dest_uuid TEXT DEFAULT '',
    auto_record BIGINT DEFAULT 0,
    bill_rate TEXT DEFAULT '0.00',
    blacklist TEXT DEFAULT '',
    body TEXT DEFAULT '',
    proxy_media BIGINT DEFAULT 1,
    route_type BIGINT DEFAULT 4,
    media_codec TEXT DEFAULT '',
    disabled BIGINT DEFAULT 0,
    cid_number TEXT DEFAULT '',
    outdest_type TEXT DEFAULT '',
    did_enabled BIGINT DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE INDEX routes_workspace ON routes (workspace_id, id);

CREATE TABLE params (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    realm TEXT NOT NULL,
    ref_id BIGINT NOT NULL,
    k TEXT NOT NULL,
    v TEXT DEFAULT '',
    o BIGINT DEFAULT 1,
    disabled BIGINT DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX params_workspace ON params (workspace_id, id);

CREATE TABLE time_recurrences (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    route_id BIGINT REFERENCES routes (id) ON DELETE CASCADE NOT NULL,
    time_recurrence TEXT NOT NULL,
    dest_type TEXT NOT NULL,
    dest_uuid TEXT DEFAULT '',
    body TEXT DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX time_recurrences_workspace ON time_recurrences (workspace_id, id);

CREATE TABLE time_templates (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE INDEX time_templates_workspace ON time_templates (workspace_id, id);

CREATE TABLE template_recurrences (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    template_id BIGINT REFERENCES time_templates (id) ON DELETE CASCADE NOT NULL,
    time_recurrence TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX template_recurrences_workspace ON template_recurrences (workspace_id, id);

CREATE TABLE trunk_groups (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT DEFAULT '',
    strategy TEXT NOT NULL,
    params TEXT DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE INDEX trunk_groups_workspace ON trunk_groups (workspace_id, id);

CREATE TABLE trunk_group_members (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    group_id BIGINT REFERENCES trunk_groups (id) ON DELETE CASCADE NOT NULL,
    trunk_id BIGINT REFERENCES trunks (id) ON DELETE CASCADE NOT NULL,
    weight BIGINT,
    priority BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX trunk_group_members_workspace ON trunk_group_members (workspace_id, id);

CREATE TABLE route_codes (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    tg_id BIGINT REFERENCES trunk_groups (id) NOT NULL,
    description TEXT DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, code)
);
CREATE INDEX route_codes_workspace ON route_codes (workspace_id, id);

CREATE TABLE media (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    media_path TEXT NOT NULL,
    media_type TEXT NOT NULL,
    content_type TEXT DEFAULT '',
    size BIGINT,
    duration_ms BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX media_workspace ON media (workspace_id, id);

CREATE TABLE ivrs (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    key TEXT DEFAULT '',
    description TEXT DEFAULT '',
    greet_long TEXT,
    greet_short TEXT,
    invalid_sound TEXT,
    exit_sound TEXT,
    transfer_sound TEXT,
    timeout BIGINT DEFAULT 15000,
    max_failures BIGINT DEFAULT 3,
    max_timeouts BIGINT DEFAULT 4,
    exec_on_max_failures TEXT DEFAULT '',
    exec_on_max_timeouts TEXT DEFAULT '',
    confirm_key TEXT DEFAULT '',
    confirm_macro TEXT DEFAULT '',
    tts_engine TEXT DEFAULT '',
    tts_voice TEXT DEFAULT '',
    confirm_attempts BIGINT,
    digit_len BIGINT DEFAULT 1,
    inter_digit_timeout BIGINT DEFAULT 3000,
    pin TEXT DEFAULT '',
    pin_file TEXT,
    bad_pin_file TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ivrs_workspace ON ivrs (workspace_id, id);

CREATE TABLE ivr_actions (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    ivr_menu_id BIGINT REFERENCES ivrs (id) ON DELETE CASCADE NOT NULL,
    digits TEXT NOT NULL,
    action TEXT NOT NULL,
    match_prefix BIGINT DEFAULT 0,
    args TEXT DEFAULT '',
    body TEXT DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ivr_actions_workspace ON ivr_actions (workspace_id, id);

CREATE TABLE func_codes (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    func_code TEXT NOT NULL,
    func_type TEXT NOT NULL,
    description TEXT DEFAULT '',
    disabled BIGINT DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, func_code)
);
CREATE INDEX func_codes_workspace ON func_codes (workspace_id, id);

CREATE TABLE gateways (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    realm TEXT NOT NULL,
    username TEXT DEFAULT '',
    password_enc TEXT DEFAULT '',
    profile_id BIGINT DEFAULT 1,
    register TEXT DEFAULT 'no',
    description TEXT DEFAULT '',
    template TEXT DEFAULT '',
    state TEXT DEFAULT 'NOREG',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE INDEX gateways_workspace ON gateways (workspace_id, id);

CREATE TABLE gateway_variables (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    gateway_id BIGINT REFERENCES gateways (id) ON DELETE CASCADE NOT NULL,
    k TEXT NOT NULL,
    v TEXT DEFAULT '',
    disabled BIGINT DEFAULT 0,
    direction BIGINT DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX gateway_variables_workspace ON gateway_variables (workspace_id, id);

CREATE TABLE blacklists (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT DEFAULT '',
    list_type BIGINT NOT NULL,
    limit_user_type BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE INDEX blacklists_workspace ON blacklists (workspace_id, id);

CREATE TABLE blocks (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT DEFAULT '',
    xml TEXT DEFAULT '',
    js TEXT DEFAULT '',
    lua TEXT DEFAULT '',
    ver TEXT DEFAULT '',
    ivr_menu_id TEXT DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX blocks_workspace ON blocks (workspace_id, id);

CREATE TABLE dods (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    extn_id BIGINT REFERENCES agents (id),
    extn TEXT NOT NULL,
    line_number TEXT NOT NULL,
    type TEXT NOT NULL,
    ref_id BIGINT,
    name TEXT DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX dods_workspace ON dods (workspace_id, id);

CREATE TABLE ip_rules (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    target_ip TEXT NOT NULL,
    target_name TEXT DEFAULT '',
    target_port BIGINT,
    target_protocol TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ip_rules_workspace ON ip_rules (workspace_id, id);

CREATE TABLE number_translations (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT DEFAULT '',
    type TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE INDEX number_translations_workspace ON number_translations (workspace_id, id);

CREATE TABLE nts_numbers (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    translation_id BIGINT REFERENCES number_translations (id) ON DELETE CASCADE NOT NULL,
    original_number TEXT NOT NULL,
    nts_number TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX nts_numbers_workspace ON nts_numbers (workspace_id, id);

CREATE TABLE cdrs (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    call_ref TEXT NOT NULL,
    calldate BIGINT NOT NULL,
    answer_date BIGINT,
    end_date BIGINT,
    src TEXT NOT NULL,
    dst TEXT NOT NULL,
    clid TEXT DEFAULT '',
    src_id BIGINT,
    dst_id BIGINT,
    direction TEXT,
    type TEXT DEFAULT '',
    disposition TEXT DEFAULT '',
    hangup_cause TEXT DEFAULT '',
    duration BIGINT,
    billsec BIGINT,
    context TEXT DEFAULT '',
    recording TEXT DEFAULT '',
    application_id BIGINT,
    route_id BIGINT,
    codec TEXT DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX cdrs_workspace ON cdrs (workspace_id, id);

CREATE INDEX params_ref ON params (realm, ref_id);
CREATE INDEX routes_context ON routes (workspace_id, context, prefix);
CREATE INDEX cdrs_calldate ON cdrs (workspace_id, calldate);
