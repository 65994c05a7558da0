"""Azərbaycanca (latın əlifbası): the report's and the UI pages' sentences and labels
(see `agency_pulse.i18n`).

Written so that no suffix has to be glued to a figure whose last word is not known in
advance ("23 minə yaxın", not "23 min-ə"): where Azerbaijani needs a case ending after a
number, the sentence puts the number where none is needed, or uses an ordinal, whose
suffix Babel's ordinal rules choose ("2011-ci", "3-cü", "2026-cı").
"""

MESSAGES = {
    # ------------------------------------------------------------------ numbers and lists
    "ordinal": {"one": "{n}-ci", "few": "{n}-cü", "many": "{n}-cı", "other": "{n}-cu"},
    "number.not_available": "məlumat yoxdur",
    "number.thousand": "{n} min",
    "number.thousand.nearly": "{n} minə yaxın",
    "number.thousand.over": "{n} mindən çox",
    "number.million": "{n} milyon",
    "number.million.nearly": "{n} milyona yaxın",
    "number.million.over": "{n} milyondan çox",
    "list.and": "və",
    "list.none_of": "və",

    # ------------------------------------------------------------------ words for data values
    "status.active": "fəal",
    "status.low": "az fəal",
    "status.stale": "durğun",
    "status.dormant": "fəaliyyətsiz",
    "status.unknown": "naməlum",
    "extract.ok": "uğurlu",
    "extract.failed": "uğursuz",
    "extract.gone": "silinib",
    "extract.skipped": "buraxılıb",
    "extract.kept": "saxlanılıb",

    # ------------------------------------------------------------------ agency paragraphs
    "standing.no_followers": "{agency} üzrə bu dövr üçün izləyici rəqəmləri yoxdur.",
    "standing.ranked": "İzləyici sayına görə {rank_ordinal} yerdədir: {accounts} hesabda cəmi "
                       "{followers} izləyici.",
    "standing.ranked_growth": "İzləyici sayına görə {rank_ordinal} yerdədir: {accounts} hesabda "
                              "cəmi {followers} izləyici (hər iki tarixdə sayılan səhifələr üzrə "
                              "{growth}).",
    "standing.successor": {"one": "Əvəz etdiyi qurum: {agencies}.",
                           "other": "Əvəz etdiyi qurumlar: {agencies}."},
    "account.sentence": "{account}: {details}.",
    "followers.none": "bu dövrdə izləyici sayı yoxdur",
    "followers.figures": "({start} → {end})",
    "followers.figures_change": "({start} → {end}, {change})",
    "followers.from_none": "əvvəl izləyicisi yox idi, indi {end} {figures}",
    "followers.multiple": "izləyici sayı {multiple} artaraq {end} olub {figures}",
    "multiple.2": "iki dəfə",
    "multiple.2.nearly": "təxminən iki dəfə",
    "multiple.2.more": "iki dəfədən çox",
    "multiple.3": "üç dəfə",
    "multiple.3.nearly": "təxminən üç dəfə",
    "multiple.3.more": "üç dəfədən çox",
    "multiple.4": "dörd dəfə",
    "multiple.4.nearly": "təxminən dörd dəfə",
    "multiple.4.more": "dörd dəfədən çox",
    "multiple.n": "{n} dəfə",
    "multiple.n.nearly": "təxminən {n} dəfə",
    "multiple.n.more": "{n} dəfədən çox",
    "followers.grew": "izləyici sayı {change} artaraq {end} olub {figures}",
    "followers.steady": "izləyici sayı demək olar ki, dəyişməyib: {end} {figures}",
    "followers.fell": "izləyici sayı {start} idi, azalaraq {end} olub {figures}",
    "followers.fell_halved": "izləyici sayı yarıdan çox azalıb: {start} idi, {end} olub {figures}",
    "new.counted": "{followers} izləyici ({month})",
    "new.successor": "yenidənqurmadan sonra yeni səhifə açıb",
    "new.successor_counted": "yenidənqurmadan sonra yeni səhifə açıb, ilk sayım: {counted}",
    "new.first_counted": "ilk sayım: {counted}",
    "new.first_in_period": "ilk dəfə bu dövrdə sayılıb",
    "new.now": ", indi {followers}",
    "activity.only_post": "səhifədəki yeganə paylaşım {year_ordinal} ildəndir",
    "activity.dormant_since": "fəaliyyətsizdir: son paylaşım {date} tarixindədir",
    "activity.never_posted": "fəaliyyətsizdir: heç vaxt paylaşım etməyib",
    "activity.active": "{posts} paylaşım edib (həftədə {rate})",
    "activity.low": "nadir hallarda paylaşım edib: {count}{last}",
    "activity.low.posts": "{posts} paylaşım",
    "activity.low.few": "bir neçə paylaşım",
    "activity.low.last": ", sonuncusu {date} tarixində",
    "activity.stale": "{date} tarixindən bəri paylaşım yoxdur",
    "activity.unknown": "paylaşım məlumatı yoxdur",
    "activity.posted": "{posts} paylaşım edib",
    "formats.all_live": "bütün paylaşımlar canlı yayım olub",
    "formats.mostly_live": "paylaşımların çoxu canlı yayım olub ({share})",
    "formats.some_live": "paylaşımların {share}-i canlı yayım olub",
    "formats.mostly_video": "əsasən video (paylaşımların {share}-i)",
    "formats.some_video": "paylaşımların {share}-i video olub",
    "platforms.present": "Təmsil olunduğu platformalar: {platforms}",
    "platforms.absent": "hesabı olmayan platformalar: {platforms}",
    "platforms.absent_only": "Hesabı olmayan platformalar: {platforms}",
    "missing.account": "{account}: bu dövr üçün məlumat yoxdur.",
    "missing.account_why": "{account}: bu dövr üçün məlumat yoxdur; {why}.",
    "missing.why": "son toplamanın nəticəsi: {status}",
    "missing.why_reason": "son toplamanın nəticəsi: {status} ({reason})",
    "missing.no_observation": "dövr ərzində müşahidə yoxdur",

    # ------------------------------------------------------------------ the report document
    "notice.synthetic": (
        "Sintetik məlumatlar: bu rəqəmlər platformalardan deyil, Agency Pulse sınaq "
        "mühitindən (sandbox) götürülüb. Onlar uydurmadır və adı çəkilən qurumlar barədə "
        "heç bir həqiqəti əks etdirmir; onlara istinad etməyin."),
    "report.title.annual": "Agency Pulse: illik hesabat, {period}",
    "report.title.monthly": "Agency Pulse: aylıq hesabat, {period}",
    "report.rules_note": (
        "Mətnlər sabit qaydalarla yazılıb (sonda \"Metodologiya\" bölməsinə baxın): artım "
        "dövrdən əvvəlki son sayımla dövr ərzindəki son sayım arasında müqayisə edilir; dövr "
        "ərzində ilk dəfə sayılan səhifə yeni sayılır, heç vaxt itki kimi göstərilmir."),
    "report.heading.coverage": "Məlumatların əhatəsi",
    "report.heading.leaderboards": "Reytinq cədvəlləri",
    "report.heading.charts": "Qrafiklər",
    "report.heading.agencies": "Qurumlar",
    "report.heading.methods": "Metodologiya",
    "coverage.summary": ("{start} – {end} dövrünün məlumatları: {total} hesabdan {with_data} "
                         "hesab üzrə rəqəmlər var."),
    "coverage.no_data": "Məlumat yoxdur: {account} ({agency}): {reason}.",
    "coverage.no_followers": "İzləyici sayı yoxdur: {account} ({agency}).",
    "coverage.posts_not_tracked": "Paylaşımlar izlənilmir: {account} ({agency}).",
    "coverage.no_extract_log": ("Anbarda bu hesablar üçün məlumat toplama jurnalı yoxdur, ona "
                                "görə boşluqların səbəbləri məlum deyil."),
    "charts.no_data": "{title}: məlumat yoxdur",
    "charts.first_counted": "hesab ilk dəfə sayılıb (artım deyil)",
    "charts.partial_month": "natamam ay",
    "charts.partial_start": "{month} natamam aydır: məlumatlar {day} tarixindən başlayır.",
    "charts.partial_end": "{month} natamam aydır: məlumatlar {day} tarixinə qədərdir.",
    "charts.partial_title_start": "{title} (natamam ay: məlumatlar {day} tarixindən)",
    "charts.partial_title_end": "{title} (natamam ay: məlumatlar {day} tarixinədək)",
    "charts.within_rounding": "yuvarlaqlaşdırma həddində",
    "charts.youtube_rounding": (
        "YouTube abunəçi saylarını üç əhəmiyyətli rəqəmədək yuvarlaqlaşdırılmış göstərir: "
        "yuvarlaqlaşdırma addımından böyük olmayan dəyişiklik \"yuvarlaqlaşdırma həddində\" "
        "kimi göstərilir."),
    "charts.ranking_cut": "{title} ({total} qurumdan ən yüksək {top} və ən aşağı {bottom})",
    "charts.agency_followers": ("Qurumların izləyici sayı, aylar üzrə (xətlər yalnız hər iki tarixdə "
                                "sayılan səhifələri birləşdirir)"),
    "charts.account_followers": "Hesabların izləyici sayı, aylar üzrə",
    "charts.agency_posts": "Aylıq paylaşımlar",
    "charts.all_posts": "Aylıq paylaşımlar, bütün qurumlar",
    "charts.growth_ranking": "İzləyici artımı reytinqi (hər iki tarixdə sayılan səhifələr)",
    "charts.growth_year": "İzləyici artımı, {year} (hər iki tarixdə sayılan səhifələr)",
    "board.overall": "Bütün platformalar: qurumlar",
    "column.rank": "Yer",
    "column.agency": "Qurum",
    "column.platforms": "Platformalar",
    "column.platform": "Platforma",
    "column.account": "Hesab",
    "column.followers": "İzləyicilər",
    "column.change": "Dəyişiklik",
    "column.growth": "Artım",
    "column.growth_rank": "Artıma görə yer",
    "column.posts": "Paylaşımlar",
    "column.posts_per_week": "Paylaşım / həftə",
    "column.engagement_per_post": "Reaksiya / paylaşım",
    "column.activity": "Fəallıq",
    "column.last_post": "Son paylaşım",
    "column.last_extraction": "Son toplama",
    "methods.sources": (
        "Mənbələr. Rəqəmlər platformaların açıq interfeyslərindən (hər hesabın izləyici "
        "sayının və dərc etdiyi paylaşımların gündəlik sayımı), platforma bunları vermədikdə "
        "isə əl ilə aparılan müşahidələrdən götürülür. Yalnız monitorinqin öz cədvəllərindən "
        "istifadə olunur; heç nə təxmin edilmir."),
    "methods.growth": (
        "İzləyici artımı dövrdən əvvəlki son sayımı dövr ərzindəki son sayımla müqayisə edir. "
        "Qurumun artımına yalnız hər iki tarixdə sayılan səhifələr daxildir, ona görə dövr "
        "ərzində ilk dəfə sayılan səhifə məlumatlarda yenidir: nə artım, nə də itki sayılır."),
    "methods.words": (
        "Dəyişikliyi bildirən sözlər: izləyici sayı 1,9 dəfə və daha çox artdıqda \"iki dəfə\", "
        "\"üç dəfə\" və ya \"5 dəfə artaraq\"; +2% və daha çox olduqda \"artaraq\"; hər iki "
        "istiqamətdə 2%-dən az dəyişdikdə \"demək olar ki, dəyişməyib\"; −2% və daha az "
        "olduqda \"azalaraq\", yarısı və ya daha çoxu itirildikdə isə \"yarıdan çox azalıb\"."),
    "methods.rounding": (
        "Yuvarlaqlaşdırılmış rəqəmlər necə yuvarlaqlaşdırıldığını bildirir: \"23 minə yaxın\" "
        "23.000-dən bir qədər az, \"10 mindən çox\" isə 10.000-dən bir qədər çox deməkdir; "
        "dəqiq rəqəmlər mötərizədə verilir."),
    "methods.posts_per_week": (
        "Həftəlik paylaşım sayı dövrün paylaşımlarının əhatə olunan həftələrin sayına "
        "bölünməsidir; hələ davam edən dövrdə yalnız məlumat olan son günə qədərki günlər "
        "nəzərə alınır."),
    "methods.engagement": (
        "Paylaşım başına reaksiya platforma bu rəqəmləri verdikdə bəyənmə, şərh və "
        "paylaşmaların paylaşım başına sayıdır; platforma onları vermədikdə (Telegram) "
        "\"məlumat yoxdur\" yazılır, heç vaxt 0 yazılmır."),
    "methods.activity": (
        "Dövrün sonundakı fəallıq: fəal (son 30 gündə 4 və daha çox paylaşım), az fəal (son "
        "paylaşım 90 gün ərzində), durğun (91–365 gün), fəaliyyətsiz (bir ildən çox və ya heç "
        "paylaşım olmayıb)."),
    "methods.missing": (
        "Çatışmayan məlumatlar: quruma aid olan, lakin dövr ərzində rəqəmləri olmayan hesab "
        "\"Məlumatların əhatəsi\" bölməsində son toplamanın bildirdiyi səbəblə göstərilir. "
        "Qəsdən istifadədən çıxarılmış hesab artıq izlənilmir; bu, xəta deyil."),
    "methods.dates": "Tarixlər və aylar UTC vaxtı ilə verilir.",

    # ------------------------------------------------------------------ the UI pages
    "ui.nav.leaderboard": "Reytinq",
    "ui.nav.quality": "Məlumat keyfiyyəti",
    "ui.nav.latest_report": "Son hesabat",
    "ui.switch_language": "English",
    "ui.leaderboard.title": "Reytinq, {year}",
    "ui.leaderboard.data_to": "Məlumatlar {date} tarixinədək.",
    "ui.leaderboard.other_years": "Digər illər:",
    "ui.leaderboard.report": "Son hesabat ({name})",
    "ui.leaderboard.rows": "{total} sətirdən {first}–{last}.",
    "ui.leaderboard.no_rows_here": "Bu səhifədə sətir yoxdur (cəmi {total}).",
    "ui.leaderboard.previous": "əvvəlki səhifə",
    "ui.leaderboard.next": "növbəti səhifə",
    "ui.leaderboard.all_boards": "Bütün reytinqlər",
    "ui.leaderboard.growth": "Artım reytinqi",
    "ui.agency.back": "reytinqə qayıt",
    "ui.agency.trends": "Dinamika",
    "ui.agency.accounts": "Hesablar",
    "ui.agency.no_data": "{year_ordinal} il üçün məlumat yoxdur",
    "ui.agency.retired": "istifadədən çıxarılıb ({reason})",
    "ui.agency.not_logged": "qeydə alınmayıb",
    "ui.quality.title": "Məlumat keyfiyyəti",
    "ui.quality.latest": "Hər məlumat dəsti və platforma üzrə son yoxlama",
    "ui.quality.no_runs": "Anbarda hələ yoxlama nəticəsi yoxdur.",
    "ui.quality.dataset": "Məlumat dəsti",
    "ui.quality.partition": "Bölmə",
    "ui.quality.validated_at": "Yoxlama vaxtı",
    "ui.quality.rows": "Sətirlər",
    "ui.quality.result": "Nəticə",
    "ui.quality.expectations": "Gözləntilər",
    "ui.quality.failures": "Uğursuz yoxlamalar",
    "ui.quality.warnings": "Xəbərdarlıqlar",
    "ui.quality.passed": "keçdi",
    "ui.quality.failed": "keçmədi",
    "ui.quality.failed_of": "{evaluated} gözləntidən {failed} keçmədi",
    "ui.quality.quarantined": "Karantinə alınmış partiyalar",
    "ui.quality.why": "Səbəb",
    "ui.quality.quarantined_to": "Karantin yeri",
    "ui.quality.no_quarantined": "Karantinə alınmış partiya yoxdur.",
    "ui.quality.extract_log": "Toplama jurnalı (son icra)",
    "ui.quality.no_log": "Anbarda toplama jurnalı yoxdur.",
    "ui.quality.empty_log": "Toplama jurnalı boşdur.",
    "ui.quality.run_date": "İcra tarixi",
    "ui.quality.status": "Vəziyyət",
    "ui.quality.reason": "Səbəb",
    "ui.quality.calls": "Sorğular",
    "ui.quality.units": "Kvota vahidləri",
    "ui.quality.retired": "istifadədən çıxarılıb",
    "ui.error.no_data_title": "Hələ məlumat yoxdur",
    "ui.error.no_warehouse": "Anbar hələ oxuna bilmir; əvvəlcə `agency-pulse build` işə salın ({detail}).",
    "ui.error.not_found_title": "Tapılmadı",
    "ui.error.bad_request_title": "Yanlış sorğu",
    "ui.error.sign_in_title": "Airflow-a daxil olun",
    "ui.error.sign_in": "Bu səhifələrə yalnız Airflow-a daxil olduqdan sonra baxmaq olar.",
    "ui.error.sign_in_link": "Daxil ol",
    "ui.error.bad_parameter": "Bu səhifə {names} parametrinin həmin dəyəri ilə göstərilə bilməz.",
    "ui.error.bad_page": "səhifə 1-dən başlayan tam ədəd olmalıdır, {value} yox",
    "ui.error.bad_page_range": "{page} nömrəli səhifə yoxdur: son səhifənin nömrəsi {last}",
    "ui.error.bad_platform": "platforma bunlardan biri olmalıdır: {platforms}; {value} yox",
    "ui.error.bad_year": "il 2026 kimi dörd rəqəmli il olmalıdır, {value} yox",
    "ui.error.bad_language": "lang bunlardan biri olmalıdır: {languages}; {value} yox",
    "ui.error.no_marts": "vitrinlərdə hələ məlumat yoxdur: əvvəlcə `agency-pulse build` işə salın",
    "ui.error.no_year": "{year_ordinal} il üçün rəqəm yoxdur",
    "ui.error.no_agency": "{year_ordinal} ildə {agency} qurumu yoxdur",
    "ui.error.no_report": "hələ hesabat yazılmayıb: `agency-pulse report` işə salın",
}
