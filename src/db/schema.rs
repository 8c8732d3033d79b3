// One schema for both backends: text ids, naive-UTC timestamps, text enums.
// Keep in step with migrations/sqlite and migrations/postgres (tests/migrations.rs checks).

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        agency_id -> Nullable<Text>,
        active -> Bool,
        password_hash -> Text,
        password_changed_at -> Timestamp,
        reminder_mode -> Text,
        feed_token_hash -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    auth_tokens (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_seen_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        method -> Text,
    }
}

diesel::table! {
    login_failures (key) {
        key -> Text,
        failures -> Integer,
        first_failure_at -> Timestamp,
        last_failure_at -> Timestamp,
    }
}

diesel::table! {
    setup_tokens (token_hash) {
        token_hash -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    case_counters (prefix) {
        prefix -> Text,
        last_sequence -> Integer,
    }
}

diesel::table! {
    cases (id) {
        id -> Text,
        reference -> Text,
        financial_year -> Text,
        child_pseudonym -> Text,
        child_name -> Nullable<Text>,
        child_dob -> Nullable<Date>,
        aware_on -> Date,
        incident_on -> Date,
        harm -> Text,
        looked_after -> Bool,
        summary -> Text,
        division -> Text,
        stage -> Text,
        next_due_on -> Nullable<Date>,
        event_count -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        child_name_sealed -> Nullable<Text>,
        child_dob_sealed -> Nullable<Text>,
        child_name_index -> Nullable<Text>,
        identity_key_id -> Nullable<Text>,
        rev -> BigInt,
    }
}

diesel::table! {
    key_rotations (key_id) {
        key_id -> Text,
        previous_key_id -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        rows_done -> Integer,
        files_done -> Integer,
        file_cursor -> Nullable<Text>,
    }
}

diesel::table! {
    case_events (id) {
        id -> Text,
        case_id -> Text,
        sequence -> Integer,
        event_type -> Text,
        occurred_on -> Date,
        data -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
        supersedes -> Nullable<Text>,
        change_reason -> Nullable<Text>,
    }
}

diesel::table! {
    case_people (case_id, user_id, relation) {
        case_id -> Text,
        user_id -> Text,
        relation -> Text,
        since -> Date,
    }
}

diesel::table! {
    deadlines (id) {
        id -> Text,
        case_id -> Text,
        rule_id -> Text,
        rule_version -> Integer,
        instance -> Integer,
        label -> Text,
        role -> Text,
        due_on -> Date,
        status -> Text,
        met_on -> Nullable<Date>,
        trigger_event -> Text,
        trigger_on -> Date,
        explanation -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    calendar_days (id) {
        id -> Text,
        division -> Nullable<Text>,
        day -> Date,
        title -> Text,
        kind -> Text,
        source -> Text,
        notes -> Text,
        bunting -> Bool,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        actor_role -> Nullable<Text>,
        action -> Text,
        outcome -> Text,
        case_id -> Nullable<Text>,
        subject -> Nullable<Text>,
        detail -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        dedupe_key -> Text,
        kind -> Text,
        recipient_id -> Nullable<Text>,
        to_address -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        case_id -> Nullable<Text>,
        deadline_id -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        cancelled_reason -> Nullable<Text>,
    }
}

diesel::joinable!(auth_tokens -> users (user_id));
diesel::joinable!(case_events -> cases (case_id));
diesel::joinable!(case_people -> cases (case_id));
diesel::joinable!(case_people -> users (user_id));
diesel::joinable!(deadlines -> cases (case_id));

diesel::allow_tables_to_appear_in_same_query!(
    settings,
    users,
    auth_tokens,
    login_failures,
    setup_tokens,
    case_counters,
    cases,
    case_events,
    case_people,
    deadlines,
    calendar_days,
    audit_log,
    outbox,
);

diesel::table! {
    form_submissions (form_id) {
        form_id -> Text,
        user_id -> Text,
        result_url -> Text,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(form_submissions, users);

diesel::table! {
    documents (id) {
        id -> Text,
        case_id -> Text,
        kind -> Text,
        title -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        event_id -> Nullable<Text>,
    }
}

diesel::table! {
    document_versions (id) {
        id -> Text,
        document_id -> Text,
        number -> Integer,
        sha256 -> Text,
        size_bytes -> BigInt,
        content_type -> Text,
        file_name -> Text,
        uploaded_by -> Text,
        uploaded_at -> Timestamp,
        locked_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        deleted_by -> Nullable<Text>,
        delete_reason -> Nullable<Text>,
    }
}

diesel::joinable!(document_versions -> documents (document_id));
diesel::allow_tables_to_appear_in_same_query!(documents, document_versions, cases);

// Identity (migration 2026-11-28-300001_identity).

diesel::table! {
    user_mfa (user_id) {
        user_id -> Text,
        secret -> Nullable<Text>,
        pending_secret -> Nullable<Text>,
        confirmed_at -> Nullable<Timestamp>,
        last_step -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> Text,
        user_id -> Text,
        code_hash -> Text,
        pending -> Bool,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    one_time_links (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        purpose -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oidc_identities (user_id) {
        user_id -> Text,
        issuer -> Text,
        subject -> Text,
        bound_at -> Timestamp,
    }
}

diesel::table! {
    sign_in_flows (id_hash) {
        id_hash -> Text,
        kind -> Text,
        user_id -> Nullable<Text>,
        browser_hash -> Text,
        nonce -> Nullable<Text>,
        pkce_verifier -> Nullable<Text>,
        next_path -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(user_mfa -> users (user_id));
diesel::joinable!(one_time_links -> users (user_id));
diesel::joinable!(oidc_identities -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    user_mfa,
    recovery_codes,
    one_time_links,
    oidc_identities,
    sign_in_flows,
);
diesel::allow_tables_to_appear_in_same_query!(auth_tokens, user_mfa);
diesel::allow_tables_to_appear_in_same_query!(auth_tokens, oidc_identities);

// Governance (migrations 2026-11-28-400001_agencies and 400002_meetings).

diesel::table! {
    agencies (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    body_members (body, user_id) {
        body -> Text,
        user_id -> Text,
        chair -> Bool,
        since -> Timestamp,
    }
}

diesel::table! {
    meetings (id) {
        id -> Text,
        body -> Text,
        title -> Text,
        scheduled_on -> Date,
        start_time -> Nullable<Text>,
        held_on -> Nullable<Date>,
        quorum_needed -> Nullable<Integer>,
        signed_off_at -> Nullable<Timestamp>,
        signed_off_by -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    meeting_attendance (meeting_id, user_id) {
        meeting_id -> Text,
        user_id -> Text,
        kind -> Text,
        for_member -> Nullable<Text>,
        agency_id -> Nullable<Text>,
        core_member -> Bool,
        chair -> Bool,
    }
}

diesel::table! {
    meeting_guests (id) {
        id -> Text,
        meeting_id -> Text,
        position -> Integer,
        name -> Text,
        organisation -> Text,
    }
}

diesel::table! {
    meeting_deputies (meeting_id, member_id) {
        meeting_id -> Text,
        member_id -> Text,
        deputy_id -> Text,
        named_by -> Text,
        named_at -> Timestamp,
    }
}

diesel::table! {
    meeting_agenda (meeting_id, case_id) {
        meeting_id -> Text,
        case_id -> Text,
        position -> Integer,
        added_by -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    meeting_minutes (id) {
        id -> Text,
        meeting_id -> Text,
        case_id -> Nullable<Text>,
        revision -> Integer,
        text -> Text,
        correction_reason -> Nullable<Text>,
        written_by -> Text,
        written_at -> Timestamp,
    }
}

diesel::table! {
    meeting_papers (id) {
        id -> Text,
        meeting_id -> Text,
        title -> Text,
        sha256 -> Text,
        size_bytes -> BigInt,
        content_type -> Text,
        file_name -> Text,
        uploaded_by -> Text,
        uploaded_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        deleted_by -> Nullable<Text>,
        delete_reason -> Nullable<Text>,
    }
}

diesel::table! {
    decisions (id) {
        id -> Text,
        meeting_id -> Text,
        case_id -> Nullable<Text>,
        kind -> Text,
        method -> Text,
        outcome -> Text,
        votes_for -> Integer,
        votes_against -> Integer,
        abstentions -> Integer,
        casting_vote -> Nullable<Text>,
        casting_by -> Nullable<Text>,
        tally -> Text,
        note -> Nullable<Text>,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    decision_votes (decision_id, agency_id) {
        decision_id -> Text,
        agency_id -> Text,
        vote -> Text,
    }
}

diesel::table! {
    decision_conflicts (decision_id, user_id) {
        decision_id -> Text,
        user_id -> Text,
        declared -> Text,
    }
}

diesel::joinable!(users -> agencies (agency_id));
diesel::joinable!(body_members -> users (user_id));
diesel::joinable!(meeting_agenda -> meetings (meeting_id));
diesel::joinable!(meeting_agenda -> cases (case_id));
diesel::joinable!(decisions -> meetings (meeting_id));
diesel::allow_tables_to_appear_in_same_query!(
    agencies,
    body_members,
    meetings,
    meeting_attendance,
    meeting_guests,
    meeting_deputies,
    meeting_agenda,
    meeting_minutes,
    meeting_papers,
    decisions,
    decision_votes,
    decision_conflicts,
);
diesel::allow_tables_to_appear_in_same_query!(users, agencies);
diesel::allow_tables_to_appear_in_same_query!(users, body_members);
diesel::allow_tables_to_appear_in_same_query!(users, meeting_attendance);
diesel::allow_tables_to_appear_in_same_query!(cases, meeting_agenda);
diesel::allow_tables_to_appear_in_same_query!(cases, meetings);
diesel::allow_tables_to_appear_in_same_query!(cases, decisions);

diesel::table! {
    case_themes (case_id, theme_key) {
        case_id -> Text,
        theme_key -> Text,
        theme -> Text,
        tagged_by -> Text,
        tagged_at -> Timestamp,
    }
}

diesel::joinable!(case_themes -> cases (case_id));
diesel::allow_tables_to_appear_in_same_query!(case_themes, cases);
diesel::allow_columns_to_appear_in_same_group_by_clause!(
    case_themes::theme_key,
    case_themes::theme,
    case_themes::case_id,
    cases::financial_year,
);
