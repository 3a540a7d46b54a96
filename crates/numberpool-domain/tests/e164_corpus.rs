use numberpool_domain::{Country, E164};
#[test]
fn explore() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/e164/");
    let corpus = std::fs::read_to_string(format!("{dir}e164-corpus.tsv")).unwrap();
    let oracle = std::fs::read_to_string(format!("{dir}e164-oracle.tsv")).unwrap();
    for (i, (c, o)) in corpus.lines().zip(oracle.lines()).enumerate() {
        let (raw, region) = c.split_once('\t').unwrap();
        let f: Vec<&str> = o.split('\t').collect();
        let r = if region.is_empty() {
            E164::parse(raw)
        } else {
            match Country::parse(region) {
                Ok(c) => E164::parse_national(raw, c),
                Err(e) => Err(e),
            }
        };
        let ours = match &r {
            Ok(n) => format!(
                "VALID\t{}\t{}\t{}\t",
                n.as_str(),
                n.country().as_str(),
                n.fine_type().as_str()
            ),
            Err(e) => format!("REJ {:?}", e),
        };
        let same = r
            .as_ref()
            .map(|n| {
                f[0] == "VALID"
                    && n.as_str() == f[1]
                    && n.country().as_str() == f[2]
                    && n.fine_type().as_str() == f[3]
            })
            .unwrap_or(f[0] != "VALID");
        let tag = if same { "SAME" } else { "DIFF" };
        println!(
            "{tag}\t{}\t{:?}\t{:?}\t{}\t|| {}",
            i + 1,
            raw,
            region,
            o,
            ours
        );
    }
}
#[test]
fn edge() {
    for s in [
        "(+999) 123 456",
        "＋999 123456",
        "＋４４ ２０ ７１８３ ８７５０ ",
        "+𝟒𝟒 𝟐𝟎 𝟕𝟏𝟖𝟑 𝟖𝟕𝟓𝟎",
        "00 44 20 7183 8750",
        "tel:+999123456",
        "020 7183 8750",
        "+44 20 7183 8750;ext=12",
        "+44 20 7183 8750 x",
    ] {
        println!(
            "{s:?} ({} bytes, {} chars) -> {:?}",
            s.len(),
            s.chars().count(),
            E164::parse(s)
        );
    }
    for r in ["001", "gb", " GB", "EH", "AC", "TA", "XK"] {
        println!("{r:?} -> {:?}", Country::parse(r));
    }
}
